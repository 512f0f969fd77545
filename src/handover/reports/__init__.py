"""Reports in zh-CN (default) and English: HTML (jinja2 templates) and XLSX (openpyxl)."""
