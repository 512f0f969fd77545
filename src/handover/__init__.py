"""handover (交接): carry a microfinance company's customer information from seller to buyer."""

__version__ = "0.1.0"
