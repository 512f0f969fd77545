"""Generate the loan book block by block, every column a numpy array.

The data is a pure function of ``(seed, customers)``: customers are cut into fixed
blocks of ``BLOCK`` and every (block, table) pair draws from its own PCG64 stream
derived from the seed with ``SeedSequence(seed, spawn_key=(block, table))``, so a
block never depends on another and a rerun is byte-identical. Keys are derived from
customer numbers (a loan of customer c is c*10+k), so no counter crosses blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from handover.synth import pools as P
from handover.synth import values as V
from handover.synth.pools import Pools

BLOCK = 25_000
SNAPSHOT = np.datetime64("2025-06-30", "D")  # the book's "as of" day; fixed for determinism
GLOBAL_BLOCK = 2**31 - 1

Arr = npt.NDArray[np.generic]
Columns = dict[str, Arr]
Batch = dict[str, Columns]
I64 = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
Bool = npt.NDArray[np.bool_]

# Mess shares (docs/synth.md, "Mess catalogue"); tests check them within tolerance.
MESS = {
    "mobile_formatted": 0.03,
    "mobile_fullwidth": 0.01,
    "mobile_placeholder": 0.015,
    "id_fullwidth": 0.005,
    "id_lowercase_x_of_x": 0.4,
    "id_placeholder": 0.003,
    "import_excel_mangled": 0.35,
}
ID_KIND_SHARES = {"legacy15": 0.03, "hk": 0.004, "macau": 0.002, "taiwan": 0.004, "passport": 0.005}
FIVE_CLASS = np.array(["正常", "关注", "次级", "可疑", "损失"])
FIVE_CLASS_P = np.array([0.90, 0.05, 0.025, 0.015, 0.01])
DPD_RANGE = np.array([[0, 0], [1, 90], [91, 180], [181, 360], [361, 900]])
METHODS = np.array(["等额本息", "等额本金", "先息后本", "到期一次还本付息"])
GUARANTEES = np.array(["信用", "保证", "抵押", "质押"])
ROLES = np.array(["客户经理", "催收专员", "风控审批", "柜员", "系统管理员"])

_TABLE_CODES = {
    name: i
    for i, name in enumerate(
        [
            "org_branch",
            "sys_user",
            "login_log",
            "qy_info",
            "cust_info",
            "yhk_info",
            "emergency_contact",
            "loan_iou",
            "zxsq",
            "loan_guarantor",
            "dzyw",
            "hkjh",
            "hkls",
            "csjl",
            "dr_khmd_2019",
            "people",
        ]
    )
}


def stream(seed: int, block: int, table: str) -> np.random.Generator:
    """The random stream of one table in one block, independent of all others."""
    ss = np.random.SeedSequence(seed, spawn_key=(block, _TABLE_CODES[table]))
    return np.random.Generator(np.random.PCG64(ss))


def nullable(values: Arr, null: Bool) -> Arr:
    """An object array holding ``None`` where ``null``."""
    out = values.astype(object)
    out[null] = None
    return out


@dataclass(frozen=True)
class Geo:
    """Regions as arrays, plus the address prefix of each."""

    code: I64
    p: npt.NDArray[np.float64]
    prefix: StrArray
    plate: StrArray
    area: StrArray


def _geo() -> Geo:
    prefix = []
    for _, prov, city, dist, _w in P.REGIONS:
        parts = [prov] + ([city] if city != prov else []) + ([dist] if dist != city else [])
        prefix.append("".join(parts))
    return Geo(
        code=np.array([r[0] for r in P.REGIONS], dtype=np.int64),
        p=P.weights([r[4] for r in P.REGIONS]),
        prefix=np.array(prefix),
        plate=np.array([P.PLATE_PREFIX[r[0] // 10000] for r in P.REGIONS]),
        area=np.array([P.AREA_CODES[r[0] // 10000] for r in P.REGIONS]),
    )


class Generator:
    """Produces the global tables once, then one batch per block of customers."""

    def __init__(self, seed: int, customers: int) -> None:
        self.seed = seed
        self.customers = customers
        self.pools: Pools = P.build_pools(seed)
        self.geo = _geo()
        mp = P.MOBILE_PREFIXES
        self.mobile_prefix = np.array([m[0] for m in mp], dtype=np.int64)
        self.mobile_p = P.weights([m[1] for m in mp])
        self.card_bins = [(b[0], b[2]) for b in P.CARD_BINS]
        self.card_banks = np.array([b[1] for b in P.CARD_BINS])
        self.card_p = P.weights([b[3] for b in P.CARD_BINS])
        self.n_branches = 12
        self.n_staff = int(min(5000, max(30, customers // 400)))
        self.n_employers = int(max(50, customers // 20))
        self.staff_roles: StrArray = np.array([], dtype=np.str_)
        self.employer_names: StrArray = np.array([], dtype=np.str_)

    # -- shared helpers ----------------------------------------------------------------

    def names(self, rng: np.random.Generator, male: Bool) -> StrArray:
        """Chinese names: weighted surname + a one- or two-character given name by gender."""
        n = len(male)
        pl = self.pools
        sur = pl.surnames[rng.choice(len(pl.surnames), n, p=pl.surname_p)]
        g1 = np.where(
            male,
            pl.given_male[rng.integers(0, len(pl.given_male), n)],
            pl.given_female[rng.integers(0, len(pl.given_female), n)],
        )
        g2 = np.where(
            male,
            pl.given_male[rng.integers(0, len(pl.given_male), n)],
            pl.given_female[rng.integers(0, len(pl.given_female), n)],
        )
        # The Faker lists hold one- and two-character given names; only join two singles.
        two = (rng.random(n) < 0.6) & (np.strings.str_len(g1) == 1) & (np.strings.str_len(g2) == 1)
        return np.where(two, V.join(sur, g1, g2), V.join(sur, g1))

    def regions(self, rng: np.random.Generator, n: int) -> I64:
        out: I64 = rng.choice(len(self.geo.code), n, p=self.geo.p)
        return out

    def addresses(self, rng: np.random.Generator, region_idx: I64) -> StrArray:
        """Street addresses inside the region: district, street, number, estate, room."""
        n = len(region_idx)
        pl = self.pools
        street = pl.streets[rng.integers(0, len(pl.streets), n)]
        num = V.int_str(rng.integers(1, 300, n))
        estate = pl.villages[rng.integers(0, len(pl.villages), n)]
        bld = V.int_str(rng.integers(1, 30, n))
        unit = V.int_str(rng.integers(1, 6, n))
        room = V.int_str(rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n))
        full = V.join(
            self.geo.prefix[region_idx],
            street,
            num,
            "号",
            estate,
            bld,
            "栋",
            unit,
            "单元",
            room,
            "室",
        )
        rural = rng.random(n) < 0.15
        village = V.join(
            self.geo.prefix[region_idx],
            self.pools.streets[rng.integers(0, len(pl.streets), n)],
            "村",
            V.int_str(rng.integers(1, 12, n)),
            "组",
            V.int_str(rng.integers(1, 99, n)),
            "号",
        )
        return np.where(rural, village, full)

    def mobiles(self, rng: np.random.Generator, n: int) -> StrArray:
        return V.mobiles(rng, self.mobile_prefix, self.mobile_p, n)

    def messy_mobiles(self, rng: np.random.Generator, clean: StrArray) -> StrArray:
        """Apply the mobile-number mess: formats, full-width digits, placeholders."""
        n = len(clean)
        r = rng.random(n)
        out = V.apply(r < MESS["mobile_formatted"], V.formatted_mobiles(rng, clean), clean)
        lo = MESS["mobile_formatted"]
        hi = lo + MESS["mobile_fullwidth"]
        out = V.apply((r >= lo) & (r < hi), V.fullwidth_digits(clean), out)
        ph = P.PLACEHOLDERS[rng.integers(0, len(P.PLACEHOLDERS), n)]
        return V.apply((r >= hi) & (r < hi + MESS["mobile_placeholder"]), ph, out)

    def messy_ids(self, rng: np.random.Generator, clean: StrArray) -> StrArray:
        """Apply the ID mess: lowercase x, full-width digits, placeholders."""
        n = len(clean)
        r = rng.random(n)
        out = V.apply(r < MESS["id_lowercase_x_of_x"], V.lowercase_x(clean), clean)
        r2 = rng.random(n)
        out = V.apply(r2 < MESS["id_fullwidth"], V.fullwidth_digits(clean), out)
        ph = P.PLACEHOLDERS[rng.integers(0, len(P.PLACEHOLDERS), n)]
        lo = MESS["id_fullwidth"]
        return V.apply((r2 >= lo) & (r2 < lo + MESS["id_placeholder"]), ph, out)

    def person_ids(
        self, rng: np.random.Generator, region: I64, birth: npt.NDArray[np.datetime64], male: Bool
    ) -> StrArray:
        return V.resident_ids(rng, self.geo.code[region], birth, male)

    # -- global tables -------------------------------------------------------------------

    def global_batch(self) -> Batch:
        """Branches, staff and employers: small tables every block refers to."""
        return {
            "org_branch": self._branches(),
            "sys_user": self._staff(),
            "qy_info": self._employers(),
        }

    def _branches(self) -> Columns:
        rng = stream(self.seed, GLOBAL_BLOCK, "org_branch")
        n = self.n_branches
        reg = np.argsort(-self.geo.p, kind="stable")[:n]
        codes = V.fixed_digits(np.arange(1, n + 1, dtype=np.int64) * 100 + 1, 4)
        city = np.array([P.REGIONS[i][2] for i in reg])
        names = np.where(np.arange(n) == 0, "总部营业部", V.join(city, "分公司"))
        return {
            "branch_code": codes,
            "branch_name": names,
            "address": self.addresses(rng, reg),
            "phone": V.landlines(rng, self.geo.area[reg]),
            "opened_on": V.date_str(V.random_dates(rng, "2009-01-01", "2016-01-01", n)),
        }

    def _staff(self) -> Columns:
        rng = stream(self.seed, GLOBAL_BLOCK, "sys_user")
        n = self.n_staff
        male = rng.random(n) < 0.55
        role = ROLES[rng.choice(len(ROLES), n, p=[0.45, 0.25, 0.1, 0.15, 0.05])]
        role[: len(ROLES)] = ROLES  # every role exists even in a tiny book
        self.staff_roles = role
        uid = np.arange(1, n + 1, dtype=np.int64)
        login = V.join("emp", V.fixed_digits(uid + 10000, 5))
        token_null = (role != "系统管理员") & (rng.random(n) > 0.05)
        ip_null = rng.random(n) < 0.1
        created = V.random_dates(rng, "2012-01-01", "2025-01-01", n).astype("datetime64[s]")
        created = created + rng.integers(8 * 3600, 18 * 3600, n).astype("timedelta64[s]")
        return {
            "user_id": uid,
            "login_name": login,
            "real_name": self.names(rng, male),
            "mobile": self.mobiles(rng, n),
            "email": V.join(login, "@hxxd.com.cn"),
            "branch_code": V.fixed_digits(rng.integers(1, self.n_branches + 1, n) * 100 + 1, 4),
            "role": role,
            "password_hash": V.password_hashes(rng, n),
            "trade_pin": V.pins(rng, n),
            "api_token": nullable(V.tokens(rng, n), token_null),
            "last_login_ip": nullable(V.ipv4(rng, n), ip_null),
            "status": np.where(rng.random(n) < 0.85, "在职", "离职"),
            "created_at": V.timestamp_str(created),
        }

    def _employers(self) -> Columns:
        rng = stream(self.seed, GLOBAL_BLOCK, "qy_info")
        n = self.n_employers
        pl = self.pools
        reg = self.regions(rng, n)
        city = np.array([r[2] for r in P.REGIONS])[reg]
        suffix = np.array(P.COMPANY_SUFFIXES)[rng.integers(0, len(P.COMPANY_SUFFIXES), n)]
        names = V.join(city, pl.company_cores[rng.integers(0, len(pl.company_cores), n)], suffix)
        self.employer_names = names
        uscc = V.uscc_codes(rng, self.geo.code[reg], n)
        category = np.strings.slice(uscc, 1, 2)
        kind = np.where(
            category == "2",
            "个体工商户",
            np.where(category == "3", "农民专业合作社", "有限责任公司"),
        )
        capital = (np.round(np.exp(rng.normal(np.log(1e6), 1.2, n)) / 1e4) * 1e4 * 100).astype(
            np.int64
        )
        return {
            "qybh": np.arange(1, n + 1, dtype=np.int64),
            "qymc": names,
            "tyshxydm": uscc,
            "qylx": kind,
            "fddbr": self.names(rng, rng.random(n) < 0.7),
            "zcdz": self.addresses(rng, reg),
            "lxdh": nullable(V.landlines(rng, self.geo.area[reg]), rng.random(n) < 0.3),
            "hy": P.INDUSTRIES[rng.integers(0, len(P.INDUSTRIES), n)],
            "zczb": V.money(np.maximum(capital, 100_000_00)),
            "clrq": V.date_str(V.random_dates(rng, "1995-01-01", "2024-01-01", n)),
        }

    # -- per-block tables ------------------------------------------------------------------

    def blocks(self) -> Iterator[Batch]:
        """Every block of customers, in order."""
        for b, start in enumerate(range(0, self.customers, BLOCK)):
            yield self.block(b, start, min(BLOCK, self.customers - start))

    def block(self, b: int, start: int, n: int) -> Batch:
        """All rows belonging to customers ``start+1 .. start+n`` (block number ``b``)."""
        seed = self.seed
        cust_id = np.arange(start + 1, start + n + 1, dtype=np.int64)

        # People first: who they are decides IDs, names, addresses.
        rp = stream(seed, b, "people")
        male = rp.random(n) < 0.52
        birth = np.datetime64("1960-01-01") + np.clip(
            rp.normal(25.5 * 365, 9 * 365, n), 0, 43 * 365
        ).astype("timedelta64[D]")
        kr = rp.random(n)
        edges = np.cumsum(list(ID_KIND_SHARES.values()))
        kind = np.searchsorted(
            edges, kr, side="right"
        )  # 0 legacy,1 hk,2 macau,3 tw,4 passport,5 id
        legacy = kind == 0
        birth[legacy] = V.random_dates(rp, "1955-01-01", "1984-01-01", int(legacy.sum()))
        region = self.regions(rp, n)
        ids = self.person_ids(rp, region, birth, male)
        ids = np.where(legacy, V.legacy_ids(rp, self.geo.code[region], birth, male), ids)
        permit_prefix = np.array([0, 810000, 820000, 830000], dtype=np.int64)
        permit = (kind >= 1) & (kind <= 3)
        ids = np.where(
            permit, V.residence_permits(rp, permit_prefix[np.minimum(kind, 3)], birth, male), ids
        )
        ids = np.where(kind == 4, V.passports(rp, n), ids)
        id_type = np.array(
            [
                "居民身份证",
                "港澳居民居住证",
                "港澳居民居住证",
                "台湾居民居住证",
                "护照",
                "居民身份证",
            ]
        )[kind]
        names = self.names(rp, male)
        phones = self.mobiles(rp, n)
        home_region = np.where(rp.random(n) < 0.75, region, self.regions(rp, n))

        loans = self._loans(b, cust_id, region, home_region)
        open_date = np.minimum(
            V.random_dates(rp, "2016-01-01", "2025-06-01", n),
            loans.first_disb - rp.integers(0, 30, n).astype("timedelta64[D]"),
        )
        batch: Batch = {}
        batch["login_log"] = self._logins(b, start, n)
        batch["cust_info"] = self._customers(
            b, cust_id, names, male, birth, id_type, ids, phones, region, home_region, open_date
        )
        cards = self._cards(b, cust_id, phones, open_date)
        batch["yhk_info"] = cards
        batch["emergency_contact"] = self._contacts(b, cust_id)
        loan_cols = loans.columns(self, cards, b)
        batch["loan_iou"] = loan_cols
        batch["zxsq"] = self._authorisations(b, loans, names, ids, kind)
        batch["loan_guarantor"] = self._guarantors(b, loans)
        batch["dzyw"] = self._collateral(b, loans, names, home_region)
        plan, flows = loans.schedule(self, b, cards)
        batch["hkjh"] = plan
        batch["hkls"] = flows
        batch["csjl"] = self._notes(b, loans, names, phones, ids, kind, home_region, cards)
        batch["dr_khmd_2019"] = self._legacy_import(b, start, n)
        return batch

    def _loans(self, b: int, cust_id: I64, region: I64, home: I64) -> Loans:
        return _make_loans(self, b, cust_id, region, home)

    def _customers(
        self,
        b: int,
        cust_id: I64,
        names: StrArray,
        male: Bool,
        birth: npt.NDArray[np.datetime64],
        id_type: StrArray,
        ids: StrArray,
        phones: StrArray,
        region: I64,
        home: I64,
        open_date: npt.NDArray[np.datetime64],
    ) -> Columns:
        rng = stream(self.seed, b, "cust_info")
        n = len(cust_id)
        # Which customers work at a company on file (FK), for themselves, or unknown.
        work = rng.random(n)
        employer = rng.integers(1, self.n_employers + 1, n)
        has_emp = work < 0.6
        gzdw = np.where(
            has_emp,
            self.employer_names[employer - 1],
            np.where(
                work < 0.85,
                np.where(rng.random(n) < 0.6, "个体经营", "自由职业"),
                P.PLACEHOLDERS[rng.integers(0, 3, n)],
            ),
        )
        gz_null = work >= 0.93
        qq = V.int_str(rng.integers(10**5, 3 * 10**9, n))
        letters = V.random_chars(rng, np.arange(97, 123, dtype=np.uint32), n, 6)
        domain = P.EMAIL_DOMAINS[
            rng.choice(len(P.EMAIL_DOMAINS), n, p=P.EMAIL_WEIGHTS / P.EMAIL_WEIGHTS.sum())
        ]
        local = np.where(
            domain == "qq.com", qq, V.join(letters, V.int_str(rng.integers(10, 9999, n)))
        )
        email_r = rng.random(n)
        landline_r = rng.random(n)
        landline = V.landlines(rng, self.geo.area[home])
        landline = np.where(landline_r < 0.05, P.PLACEHOLDERS[rng.integers(0, 4, n)], landline)
        income = (np.round(np.exp(rng.normal(np.log(6000), 0.55, n)) / 100) * 100 * 100).astype(
            np.int64
        )
        created = open_date.astype("datetime64[s]") + rng.integers(8 * 3600, 20 * 3600, n).astype(
            "timedelta64[s]"
        )
        staff = rng.integers(1, self.n_staff + 1, n)
        return {
            "khbh": cust_id,
            "khxm": names,
            "xb": np.where(male, "男", "女"),
            "csrq": V.date_str(birth),
            "zjlx": id_type,
            "zjhm": self.messy_ids(rng, ids),
            "sjhm": self.messy_mobiles(rng, phones),
            "gddh": nullable(landline, landline_r >= 0.3),
            "dzyx": nullable(V.join(local, "@", domain), email_r >= 0.35),
            "hjdz": self.addresses(rng, region),
            "jtdz": self.addresses(rng, home),
            "qybh": nullable(employer, ~has_emp),
            "gzdw": nullable(gzdw, gz_null & ~has_emp),
            "ysr": V.money(income),
            "hyzk": np.array(["已婚", "未婚", "离异", "丧偶", "未知"])[
                rng.choice(5, n, p=[0.62, 0.28, 0.07, 0.01, 0.02])
            ],
            "xl": np.array(["初中及以下", "高中/中专", "大专", "本科", "硕士及以上"])[
                rng.choice(5, n, p=[0.25, 0.35, 0.22, 0.15, 0.03])
            ],
            "khrq": V.date_str(open_date),
            "jgdm": V.fixed_digits(rng.integers(1, self.n_branches + 1, n) * 100 + 1, 4),
            "khjl": staff,
            "cjsj": V.timestamp_str(created),
        }

    def _cards(
        self, b: int, cust_id: I64, phones: StrArray, open_date: npt.NDArray[np.datetime64]
    ) -> Columns:
        rng = stream(self.seed, b, "yhk_info")
        k = np.where(rng.random(len(cust_id)) < 0.3, 2, 1)
        owner = np.repeat(np.arange(len(cust_id)), k)
        seq = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
        m = len(owner)
        which = rng.choice(len(self.card_bins), m, p=self.card_p)
        bound = np.where(rng.random(m) < 0.85, phones[owner], self.mobiles(rng, m))
        bind = open_date[owner] + rng.integers(0, 400, m).astype("timedelta64[D]")
        return {
            "kid": cust_id[owner] * 10 + seq,
            "khbh": cust_id[owner],
            "yhkh": V.bank_cards(rng, self.card_bins, which),
            "khh": self.card_banks[which],
            "ylsjh": bound,
            "cvn2": nullable(V.fixed_digits(rng.integers(0, 1000, m), 3), rng.random(m) >= 0.04),
            "sfmr": (seq == 0).astype(np.int64),
            "bdrq": V.date_str(np.minimum(bind, SNAPSHOT)),
        }

    def _contacts(self, b: int, cust_id: I64) -> Columns:
        rng = stream(self.seed, b, "emergency_contact")
        k = np.where(rng.random(len(cust_id)) < 0.5, 2, 1)
        owner = np.repeat(np.arange(len(cust_id)), k)
        seq = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
        m = len(owner)
        rel = np.array(["配偶", "父亲", "母亲", "兄弟", "姐妹", "子女", "朋友", "同事"])[
            rng.choice(8, m, p=[0.3, 0.15, 0.15, 0.1, 0.1, 0.05, 0.1, 0.05])
        ]
        return {
            "联系人编号": cust_id[owner] * 10 + seq,
            "客户编号": cust_id[owner],
            "联系人姓名": self.names(rng, rng.random(m) < 0.5),
            "关系": rel,
            "联系电话": self.messy_mobiles(rng, self.mobiles(rng, m)),
        }

    def _logins(self, b: int, start: int, n: int) -> Columns:
        rng = stream(self.seed, b, "login_log")
        m = max(1, n // 4)
        t = V.random_dates(rng, "2024-01-01", "2025-06-30", m).astype("datetime64[s]")
        t = t + rng.integers(7 * 3600, 23 * 3600, m).astype("timedelta64[s]")
        t = np.sort(t)
        ok = rng.random(m) < 0.95
        return {
            "log_id": np.arange(start + 1, start + m + 1, dtype=np.int64),
            "user_id": rng.integers(1, self.n_staff + 1, m),
            "login_time": V.timestamp_str(t),
            "login_ip": V.ipv4(rng, m),
            "result": np.where(
                ok, "成功", np.where(rng.random(m) < 0.8, "失败:密码错误", "失败:账号锁定")
            ),
        }

    def _authorisations(
        self, b: int, loans: Loans, names: StrArray, ids: StrArray, kind: I64
    ) -> Columns:
        rng = stream(self.seed, b, "zxsq")
        m = len(loans.iou_id)
        o = loans.owner
        online = rng.random(m) < 0.7
        t = (loans.disb - rng.integers(1, 10, m).astype("timedelta64[D]")).astype("datetime64[s]")
        t = t + rng.integers(8 * 3600, 22 * 3600, m).astype("timedelta64[s]")
        overdue = np.where(loans.cls > 0, rng.integers(1, 5, m), 0)
        return {
            "sqbh": loans.iou_id,
            "khbh": loans.cust[o],
            "iou_id": loans.iou_id,
            "sqsj": V.timestamp_str(t),
            "sqfs": np.where(online, "线上电子签名", "纸质授权书"),
            "sqr_xm": names[o],
            "sqr_zjhm": self.messy_ids(rng, ids[o]),
            "qm_ip": nullable(V.ipv4(rng, m), ~online),
            "cxyy": np.where(rng.random(m) < 0.85, "贷前审查", "贷后管理"),
            "zxpf": np.clip(rng.normal(640, 70, m) - loans.cls * 40, 350, 900).astype(np.int64),
            "yqzhs": overdue + (rng.random(m) < 0.1),
        }

    def _guarantors(self, b: int, loans: Loans) -> Columns:
        rng = stream(self.seed, b, "loan_guarantor")
        sel = np.flatnonzero(loans.guarantee == 1)
        k = np.where(rng.random(len(sel)) < 0.3, 2, 1)
        li = np.repeat(sel, k)
        seq = np.arange(len(li)) - np.repeat(np.cumsum(k) - k, k)
        m = len(li)
        male = rng.random(m) < 0.6
        birth = V.random_dates(rng, "1960-01-01", "2000-01-01", m)
        region = self.regions(rng, m)
        ids = self.person_ids(rng, region, birth, male)
        return {
            "guarantor_id": loans.iou_id[li] * 10 + seq,
            "iou_id": loans.iou_id[li],
            "name": self.names(rng, male),
            "sfzh": self.messy_ids(rng, ids),
            "mobile": self.messy_mobiles(rng, self.mobiles(rng, m)),
            "relation": np.array(["配偶", "亲属", "朋友", "同事", "企业法人"])[
                rng.choice(5, m, p=[0.3, 0.3, 0.2, 0.1, 0.1])
            ],
            "address": self.addresses(rng, region),
            "guarantee_amount": V.money(loans.amount[li]),
        }

    def _collateral(self, b: int, loans: Loans, names: StrArray, home: I64) -> Columns:
        rng = stream(self.seed, b, "dzyw")
        sel = np.flatnonzero(loans.guarantee >= 2)
        m = len(sel)
        vehicle = rng.random(m) < 0.75
        region = home[loans.owner[sel]]
        own = rng.random(m) < 0.9
        owner = np.where(own, names[loans.owner[sel]], self.names(rng, rng.random(m) < 0.5))
        value = (loans.amount[sel] * rng.uniform(1.2, 2.5, m)).astype(np.int64) // 100 * 100
        return {
            "dzywbh": loans.iou_id[sel] * 10,
            "jjid": loans.iou_id[sel],
            "yplx": np.where(vehicle, "机动车", "房产"),
            "cphm": nullable(V.plates(rng, self.geo.plate[region]), ~vehicle),
            "clpp": nullable(P.VEHICLE_MODELS[rng.integers(0, len(P.VEHICLE_MODELS), m)], ~vehicle),
            "fcdz": nullable(self.addresses(rng, region), vehicle),
            "pgjz": V.money(value),
            "syqr": owner,
        }

    def _notes(
        self,
        b: int,
        loans: Loans,
        names: StrArray,
        phones: StrArray,
        ids: StrArray,
        kind: I64,
        home: I64,
        cards: Columns,
    ) -> Columns:
        rng = stream(self.seed, b, "csjl")
        sel = np.flatnonzero(loans.dpd > 0)
        k = np.minimum(1 + rng.poisson(loans.cls[sel].astype(np.float64)), 6)
        li = np.repeat(sel, k)
        seq = np.arange(len(li)) - np.repeat(np.cumsum(k) - k, k)
        m = len(li)
        o = loans.owner[li]
        dpd = loans.dpd[li]
        when = (SNAPSHOT - (rng.random(m) * dpd).astype("timedelta64[D]")).astype("datetime64[s]")
        when = when - rng.integers(1 * 3600, 14 * 3600, m).astype("timedelta64[s]")
        staff = np.flatnonzero(self.staff_roles == "催收专员") + 1
        promise = when.astype("datetime64[D]") + rng.integers(3, 15, m).astype("timedelta64[D]")
        # Text parts, some written the messy ways people type them.
        nm = names[o]
        ph = np.where(rng.random(m) < 0.2, V.formatted_mobiles(rng, phones[o]), phones[o])
        other = self.names(rng, rng.random(m) < 0.5)
        other_ph = self.mobiles(rng, m)
        idn = np.where(
            kind[o] == 5,
            ids[o],
            self.person_ids(
                rng,
                home[o],
                SNAPSHOT - np.full(m, 12000).astype("timedelta64[D]"),
                rng.random(m) < 0.5,
            ),
        )
        idn = np.where(rng.random(m) < 0.3, V.lowercase_x(idn), idn)
        addr = self.addresses(rng, home[o])
        card = cast(StrArray, cards["yhkh"])[
            np.searchsorted(cards["khbh"].astype(np.int64), loans.cust[o])
        ]
        tel = V.landlines(rng, self.geo.area[home[o]])
        amt = V.money(loans.amount[li] // 10 // 100 * 100)
        date = V.date_str(promise)
        templates: list[tuple[StrArray, bool]] = [
            (V.join("电话联系借款人", nm, "(", ph, "),称下周还款,已告知逾期后果。"), False),
            (
                V.join(
                    "借款人",
                    nm,
                    "电话",
                    ph,
                    "无人接听,转联系紧急联系人",
                    other,
                    "(",
                    other_ph,
                    "),对方表示会转告。",
                ),
                False,
            ),
            (V.join("上门催收至", addr, ",借款人不在家,已留催收函。"), False),
            (V.join("核实借款人身份证号", idn, "无误,客户承诺", date, "前还款", amt, "元。"), True),
            (V.join("客户", nm, "称还款卡", card, "余额不足,申请更换代扣卡。"), False),
            (V.join("短信提醒已发送至", ph, ",未回复。"), False),
            (V.join("客户来电(", tel, ")申请展期,已提交风控审批。"), False),
            (np.full(m, "委外催收,案件已移交第三方机构处理。"), False),
            (
                V.join(
                    "联系担保人",
                    other,
                    ",电话",
                    other_ph,
                    ",担保人同意督促借款人",
                    nm,
                    "于",
                    date,
                    "前还款。",
                ),
                True,
            ),
        ]
        t = rng.choice(len(templates), m, p=[0.25, 0.15, 0.08, 0.1, 0.08, 0.14, 0.05, 0.07, 0.08])
        text = np.full(m, "", dtype=object)
        has_promise = np.zeros(m, dtype=bool)
        for i, (tpl, promised) in enumerate(templates):
            rows = t == i
            text[rows] = tpl[rows]
            if promised:
                has_promise |= rows
        method = np.where(
            np.isin(t, [2]),
            "上门",
            np.where(np.isin(t, [5]), "短信", np.where(t == 7, "委外", "电话")),
        )
        return {
            "jlbh": loans.iou_id[li] * 10 + seq,
            "jjid": loans.iou_id[li],
            "cssj": V.timestamp_str(when),
            "csy": staff[rng.integers(0, len(staff), m)],
            "csfs": method,
            "csnr": text.astype(np.str_),
            "cnhkrq": nullable(date, ~has_promise),
        }

    def _legacy_import(self, b: int, start: int, n: int) -> Columns:
        rng = stream(self.seed, b, "dr_khmd_2019")
        m = max(1, n // 25)
        male = rng.random(m) < 0.5
        region = self.regions(rng, m)
        birth = V.random_dates(rng, "1965-01-01", "2000-01-01", m)
        ids = self.person_ids(rng, region, birth, male)
        mangled = rng.random(m) < MESS["import_excel_mangled"]
        ids = np.where(mangled, V.excel_mangled(ids), self.messy_ids(rng, ids))
        t = V.random_dates(rng, "2019-03-01", "2019-12-31", m).astype("datetime64[s]")
        t = t + rng.integers(9 * 3600, 18 * 3600, m).astype("timedelta64[s]")
        return {
            "序号": np.arange(start + 1, start + m + 1, dtype=np.int64),
            "客户姓名": self.names(rng, male),
            "身份证号": ids,
            "手机号码": self.messy_mobiles(rng, self.mobiles(rng, m)),
            "意向金额": V.money(rng.integers(1, 31, m) * 10000 * 100),
            "来源渠道": np.array(["地推", "电销", "转介绍", "网络推广"])[rng.integers(0, 4, m)],
            "导入时间": V.timestamp_str(t),
        }


@dataclass
class Loans:
    """The loans of one block, as arrays (amounts in cents)."""

    cust: I64  # customer id per customer of the block
    owner: I64  # index into the block's customers, per loan
    iou_id: I64
    disb: npt.NDArray[np.datetime64]
    amount: I64
    term: I64
    method: I64
    guarantee: I64
    rate_bp: I64
    cls: I64
    dpd: I64
    first_unpaid: I64  # period number of the first unpaid instalment (term+1: none)
    corp: I64  # employer id or 0
    first_disb: npt.NDArray[np.datetime64]  # per customer

    def periods(self) -> I64:
        out: I64 = np.where(self.method == 3, 1, self.term)
        return out

    def columns(self, g: Generator, cards: Columns, b: int) -> Columns:
        rng = stream(g.seed, b, "loan_iou")
        m = len(self.iou_id)
        maturity = V.add_months(self.disb, self.term)
        settled = (self.cls == 0) & (maturity <= SNAPSHOT)
        status = np.where(settled, "结清", np.where(self.cls == 0, "正常", "逾期"))
        status = np.where((self.cls == 4) & (rng.random(m) < 0.5), "核销", status)
        _, paid_principal = self.paid_principal()
        outstanding = np.where(settled, 0, self.amount - paid_principal)
        first_card = np.searchsorted(cards["khbh"].astype(np.int64), self.cust[self.owner])
        seq = self.iou_id % 100000
        branch = rng.integers(1, g.n_branches + 1, m) * 100 + 1
        product = np.where(
            self.corp > 0,
            "小微企业经营贷",
            np.where(
                self.guarantee >= 2,
                "车辆抵押贷",
                np.where(self.amount > 100_000_00, "个体经营贷", "个人消费贷"),
            ),
        )
        y, mo, d = V.ymd(self.disb)
        return {
            "iou_id": self.iou_id,
            "iou_no": V.join(
                "JJ", V.int_str(y * 10000 + mo * 100 + d), V.fixed_digits(self.iou_id, 10)
            ),
            "contract_no": V.contract_numbers(rng, self.disb, branch, seq),
            "loan_acct_no": V.join(
                "88", V.fixed_digits(self.iou_id * 1000 + rng.integers(0, 1000, m), 14)
            ),
            "cust_id": self.cust[self.owner],
            "corp_id": nullable(self.corp, self.corp == 0),
            "product": product,
            "loan_amount": V.money(self.amount),
            "annual_rate": V.join("0.", V.fixed_digits(self.rate_bp, 4)),
            "term_months": self.term,
            "repay_method": METHODS[self.method],
            "guarantee_type": GUARANTEES[self.guarantee],
            "five_class": FIVE_CLASS[self.cls],
            "dpd": self.dpd,
            "outstanding": V.money(outstanding),
            "status": status,
            "disburse_date": V.date_str(self.disb),
            "maturity_date": V.date_str(maturity),
            "disburse_card": cards["yhkh"][first_card],
            "branch_code": V.fixed_digits(branch, 4),
        }

    def _instalments(self) -> tuple[I64, I64, I64, I64]:
        """Per instalment: loan index, period number, principal cents, interest cents."""
        k = self.periods()
        li = np.repeat(np.arange(len(k)), k)
        start = np.cumsum(k) - k
        period = np.arange(len(li)) - np.repeat(start, k) + 1
        p = self.amount[li].astype(np.float64)
        r = self.rate_bp[li].astype(np.float64) / 10000 / 12
        t = self.term[li].astype(np.float64)
        meth = self.method[li]
        growth_prev = (1 + r) ** (period - 1)
        pay = p * r / (1 - (1 + r) ** -t)
        bal_prev = p * growth_prev - pay * (growth_prev - 1) / r
        int_annuity = bal_prev * r
        prin_annuity = pay - int_annuity
        prin_equal = p / t
        int_equal = (p - (period - 1) * prin_equal) * r
        last = period == k[li]
        principal = np.select(
            [meth == 0, meth == 1, meth == 2], [prin_annuity, prin_equal, np.where(last, p, 0.0)], p
        )
        interest = np.select(
            [meth == 0, meth == 1, meth == 2], [int_annuity, int_equal, p * r], p * r * t
        )
        principal_c = np.round(principal).astype(np.int64)
        interest_c = np.round(interest).astype(np.int64)
        # The last instalment takes the rounding so principal sums to the loan exactly.
        total = np.bincount(li, weights=principal_c, minlength=len(k)).astype(np.int64)
        ends = start + k - 1
        principal_c[ends] += self.amount - total
        return li, period, principal_c, interest_c

    def paid_principal(self) -> tuple[Bool, I64]:
        li, period, principal, _ = self._instalments()
        paid = period < self.first_unpaid[li]
        return paid, np.bincount(
            li[paid], weights=principal[paid], minlength=len(self.iou_id)
        ).astype(np.int64)

    def schedule(self, g: Generator, b: int, cards: Columns) -> tuple[Columns, Columns]:
        """The repayment plan (every instalment) and the repayment flows (paid ones)."""
        li, period, principal, interest = self._instalments()
        months = np.where(self.method[li] == 3, self.term[li], period)
        due = V.add_months(self.disb[li], months)
        paid = period < self.first_unpaid[li]
        late = ~paid & (due <= SNAPSHOT)
        plan: Columns = {
            "jjid": self.iou_id[li],
            "qc": period,
            "yhrq": V.date_str(due),
            "yhbj": V.money(principal),
            "yhlx": V.money(interest),
            "zt": np.where(paid, "已还", np.where(late, "逾期", "未到期")),
        }
        rf = stream(g.seed, b, "hkls")
        pi = np.flatnonzero(paid)
        m = len(pi)
        lateness = np.where(rf.random(m) < 0.06, rf.integers(1, 20, m), -rf.integers(0, 4, m))
        when = (due[pi] + lateness.astype("timedelta64[D]")).astype("datetime64[s]")
        when = when + rf.integers(6 * 3600, 23 * 3600, m).astype("timedelta64[s]")
        penalty = np.where(lateness > 0, principal[pi] * lateness * 5 // 10000, 0)
        channel = np.array(["银行卡代扣", "支付宝", "微信支付", "对公转账", "柜台现金"])[
            rf.choice(5, m, p=[0.7, 0.1, 0.08, 0.07, 0.05])
        ]
        cust = self.cust[self.owner[li[pi]]]
        first_card = np.searchsorted(cards["khbh"].astype(np.int64), cust)
        no_card = np.isin(channel, ["对公转账", "柜台现金"])
        no_order = np.isin(channel, ["对公转账", "柜台现金"])
        flows: Columns = {
            "流水号": self.iou_id[li[pi]] * 1000 + period[pi],
            "借据ID": self.iou_id[li[pi]],
            "期次": period[pi],
            "还款时间": V.timestamp_str(when),
            "还款金额": V.money(principal[pi] + interest[pi] + penalty),
            "本金": V.money(principal[pi]),
            "利息": V.money(interest[pi]),
            "罚息": V.money(penalty),
            "还款渠道": channel,
            "还款卡号": nullable(cards["yhkh"][first_card], no_card),
            "订单号": nullable(V.order_numbers(rf, m), no_order),
        }
        return plan, flows


def _make_loans(g: Generator, b: int, cust_id: I64, region: I64, home: I64) -> Loans:
    rng = stream(g.seed, b, "loan_iou")
    n = len(cust_id)
    k = rng.choice(np.array([1, 2, 3]), n, p=[0.85, 0.12, 0.03])
    owner = np.repeat(np.arange(n), k)
    seq = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    m = len(owner)
    iou_id = cust_id[owner] * 10 + seq
    term = rng.choice(np.array([3, 6, 12, 24, 36]), m, p=[0.3, 0.4, 0.22, 0.06, 0.02])
    method = rng.choice(4, m, p=[0.5, 0.15, 0.2, 0.15])
    guarantee = rng.choice(4, m, p=[0.55, 0.3, 0.12, 0.03])
    rate_bp = rng.choice(
        np.array([960, 1200, 1500, 1800, 2160, 2399]), m, p=[0.05, 0.15, 0.2, 0.3, 0.2, 0.1]
    )
    corp = np.where(rng.random(m) < 0.06, rng.integers(1, g.n_employers + 1, m), 0)
    amount = np.round(np.exp(rng.normal(np.log(40000), 0.8, m)) / 1000) * 1000
    amount = np.clip(amount, 5000, 300000)
    amount = np.where(corp > 0, np.clip(amount * 8, 100000, 3000000), amount)
    amount_c = (amount * 100).astype(np.int64)
    cls = rng.choice(5, m, p=FIVE_CLASS_P)
    periods = np.where(method == 3, 1, term)
    # Healthy loans: any disbursement day in the window, first unpaid = next instalment due.
    disb = V.random_dates(rng, "2019-01-01", "2025-06-15", m)
    # Overdue loans: pick the days past due first, then place the disbursement so the
    # first unpaid instalment fell due exactly that many days before the snapshot.
    lo, hi = DPD_RANGE[cls, 0], DPD_RANGE[cls, 1]
    dpd = rng.integers(lo, hi + 1)
    unpaid = rng.integers(1, periods + 1)
    months_to_unpaid = np.where(method == 3, term, unpaid)
    due_unpaid = SNAPSHOT - dpd.astype("timedelta64[D]")
    _, _, d = V.ymd(due_unpaid)
    due_unpaid = due_unpaid - np.maximum(d - 28, 0).astype("timedelta64[D]")
    overdue_disb = V.add_months(due_unpaid, -months_to_unpaid)
    disb = np.where(cls > 0, overdue_disb, disb)
    _, _, d = V.ymd(disb)
    disb = disb - np.maximum(d - 28, 0).astype("timedelta64[D]")
    dpd = np.where(cls > 0, (SNAPSHOT - V.add_months(disb, months_to_unpaid)).astype(np.int64), 0)
    # Healthy loans have paid every instalment already due.
    inst = np.arange(1, 37)
    due_months = np.where(method[:, None] == 3, term[:, None], inst[None, :])
    due_all = V.add_months(np.repeat(disb, 36), due_months.ravel()).reshape(m, 36)
    n_due = ((due_all <= SNAPSHOT) & (inst[None, :] <= periods[:, None])).sum(axis=1)
    first_unpaid = np.where(cls > 0, unpaid, n_due + 1)
    first_disb = np.full(n, SNAPSHOT)
    np.minimum.at(first_disb, owner, disb)
    return Loans(
        cust=cust_id,
        owner=owner,
        iou_id=iou_id,
        disb=disb,
        amount=amount_c,
        term=term,
        method=method,
        guarantee=guarantee,
        rate_bp=rate_bp,
        cls=cls,
        dpd=dpd,
        first_unpaid=first_unpaid,
        corp=corp,
        first_disb=first_disb,
    )
