"""Our NACHA (ACH) file writer and reader: fixed-width 94-character records, strict by default.

The PyPI libraries accept wrong files (a bad routing check digit, non-ASCII names, floats for
money), so the format is written here, by the layout, with every total checked on the way in and
out. The reader refuses a malformed file with a `NachaError` naming the line and the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

RECORD_SIZE = 94
BLOCKING_FACTOR = 10
FILLER = "9" * RECORD_SIZE
MAX_AMOUNT = 99_999_999_99  # ten digits of cents

# Transaction codes: direction and kind of account. Returns/NOCs carry 21, 26, 31, 36.
CREDIT_CODES = frozenset({21, 22, 23, 24, 31, 32, 33, 34, 41, 42, 43, 44, 51, 52, 53, 54})
DEBIT_CODES = frozenset({26, 27, 28, 29, 36, 37, 38, 39, 46, 47, 48, 49, 55, 56})
PRENOTE_CODES = frozenset({23, 28, 33, 38, 43, 48, 53})
SERVICE_CLASSES = frozenset({200, 220, 225, 280})
CHECKING_DEBIT, CHECKING_PRENOTE_DEBIT = 27, 28
SAVINGS_DEBIT, SAVINGS_PRENOTE_DEBIT = 37, 38

# Return reason codes NACHA defines (R01–R85 minus the unassigned); anything else is "custom".
RETURN_CODES = frozenset(
    [f"R{n:02d}" for n in range(1, 54)] + [f"R{n:02d}" for n in range(61, 86)]
) - {"R54", "R55", "R56", "R57", "R58", "R59", "R60"}
CHANGE_CODES = frozenset([f"C{n:02d}" for n in range(1, 15)])
_MOD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
_FOLD = {"ß": "SS", "Æ": "AE", "æ": "AE", "Ø": "O", "ø": "O", "Œ": "OE", "œ": "OE", "Ł": "L"}
_FOLD |= {"ł": "L", "Đ": "D", "đ": "D", "Þ": "TH", "þ": "TH", "ı": "I"}


class NachaError(ValueError):
    """A malformed file (reader) or a value that cannot be written (writer), with where."""

    def __init__(self, line: int | None, field_name: str, message: str) -> None:
        self.line = line
        self.field = field_name
        self.message = message
        where = f"line {line}, " if line is not None else ""
        super().__init__(f"{where}field {field_name}: {message}")


def check_digit(routing8: str) -> int:
    """The ABA check digit of an 8-digit RDFI identification (weights 3 7 1 3 7 1 3 7, mod 10)."""
    total = sum(int(c) * w for c, w in zip(routing8, _WEIGHTS, strict=True))
    return (10 - total % 10) % 10


def valid_routing(routing: str) -> bool:
    return (
        len(routing) == 9
        and routing.isascii()
        and routing.isdigit()
        and check_digit(routing[:8]) == int(routing[8])
    )


def ach_text(value: str, width: int) -> str:
    """Upper-case printable ASCII, accents folded, cut to `width` (names, descriptions)."""
    out = []
    for ch in unicodedata.normalize("NFKD", value):
        if ch in _FOLD:
            out.append(_FOLD[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        # Anything else (combining accents, other scripts, controls) is dropped.
    return " ".join("".join(out).upper().split())[:width]


# ---------------------------------------------------------------------------------------------
# Writer


@dataclass(frozen=True, slots=True)
class Originator:
    """The vendor's originator settings, as its bank (the ODFI) gave them."""

    immediate_destination: str  # the ODFI's or the operator's routing number, 9 digits
    immediate_destination_name: str
    immediate_origin: str  # 10 characters, often "1" + the company's tax id
    immediate_origin_name: str
    odfi_routing: str  # 9 digits; its first 8 begin every trace number
    company_identification: str  # 10 characters
    company_name: str
    entry_description: str  # 10 characters, e.g. "INVOICES"


@dataclass(frozen=True, slots=True)
class Debit:
    """One entry to write: a debit (or its zero-dollar prenote) from a receiver's account."""

    sec_code: str  # "WEB" (personal) or "CCD" (business)
    routing_number: str
    account_number: str
    savings: bool
    amount: int  # cents; 0 only for a prenote
    name: str
    identification: str = ""  # our reference, e.g. the payment id
    prenote: bool = False
    recurring: bool = False  # WEB payment type code R (AutoPay) rather than S
    # Its batch's company entry description when not the file's, e.g. "RETRY PYMT" for a
    # re-presented debit (NACHA: entries of different descriptions go in different batches).
    entry_description: str = ""

    @property
    def transaction_code(self) -> int:
        if self.savings:
            return SAVINGS_PRENOTE_DEBIT if self.prenote else SAVINGS_DEBIT
        return CHECKING_PRENOTE_DEBIT if self.prenote else CHECKING_DEBIT


@dataclass(frozen=True, slots=True)
class Written:
    """A written file and the trace number given to each debit (in the order they were passed)."""

    text: str
    trace_numbers: list[str]
    entry_count: int
    total_debit: int
    entry_hash: int


def _alnum(value: str, width: int, name: str, line: int | None = None) -> str:
    if not value.isascii() or any(not (" " <= c <= "~") for c in value):
        raise NachaError(line, name, "only printable ASCII is allowed")
    if len(value) > width:
        raise NachaError(line, name, f"longer than {width} characters")
    return value.ljust(width)


def _num(value: int, width: int, name: str) -> str:
    text = str(value)
    if value < 0 or len(text) > width:
        raise NachaError(None, name, f"does not fit {width} digits")
    return text.zfill(width)


def _digits(value: str, width: int, name: str) -> str:
    if len(value) != width or not value.isascii() or not value.isdigit():
        raise NachaError(None, name, f"must be {width} digits")
    return value


def write_file(
    originator: Originator,
    debits: Sequence[Debit],
    *,
    effective_date: date,
    created_at: datetime,
    file_id_modifier: str,
    first_trace: int = 1,
    descriptive_date: str = "",
    entry_description: str | None = None,
) -> Written:
    """One file, one batch per SEC code (WEB, then CCD) and entry description (the file's first,
    then any debit's own, e.g. RETRY PYMT), trace numbers ascending from first_trace."""
    if file_id_modifier not in _MOD_CHARS or len(file_id_modifier) != 1:
        raise NachaError(None, "file_id_modifier", "one upper-case letter or digit")
    if not valid_routing(originator.odfi_routing):
        raise NachaError(None, "odfi_routing", "not a valid routing number")
    if not valid_routing(originator.immediate_destination):
        raise NachaError(None, "immediate_destination", "not a valid routing number")
    if first_trace < 1 or first_trace + len(debits) - 1 > 9_999_999:
        raise NachaError(None, "trace_number", "sequence out of range")
    odfi8 = originator.odfi_routing[:8]
    destination = " " + originator.immediate_destination
    origin = _alnum(originator.immediate_origin.rjust(10), 10, "immediate_origin")
    company_id = _alnum(originator.company_identification, 10, "company_identification")
    company_name = _alnum(ach_text(originator.company_name, 16), 16, "company_name")
    default_description = entry_description or originator.entry_description
    effective = effective_date.strftime("%y%m%d")
    lines = [
        "101"
        + destination
        + origin
        + created_at.strftime("%y%m%d%H%M")
        + file_id_modifier
        + "094101"
        + _alnum(ach_text(originator.immediate_destination_name, 23), 23, "destination_name")
        + _alnum(ach_text(originator.immediate_origin_name, 23), 23, "origin_name")
        + " " * 8
    ]
    by_sec: dict[tuple[str, str], list[int]] = {}
    for index, debit in enumerate(debits):
        if debit.sec_code not in ("WEB", "CCD", "PPD"):
            raise NachaError(None, "sec_code", f"unsupported SEC code {debit.sec_code!r}")
        description = ach_text(debit.entry_description or default_description, 10)
        by_sec.setdefault((debit.sec_code, description), []).append(index)
    first = ach_text(default_description, 10)
    order = sorted(
        by_sec,
        key=lambda key: (("WEB", "CCD", "PPD").index(key[0]), key[1] != first, key[1]),
    )
    traces: list[str] = [""] * len(debits)
    sequence = first_trace
    file_hash = file_debit = file_count = 0
    for batch_number, (sec, description) in enumerate(order, start=1):
        batch_no = str(batch_number).zfill(7)
        lines.append(
            "5225"
            + company_name
            + " " * 20
            + company_id
            + sec
            + _alnum(description, 10, "entry_description")
            + _alnum(descriptive_date, 6, "descriptive_date")
            + effective
            + "   1"
            + odfi8
            + batch_no
        )
        batch_hash = batch_debit = 0
        indexes = by_sec[sec, description]
        for index in indexes:
            debit = debits[index]
            routing = debit.routing_number
            if not valid_routing(routing):
                raise NachaError(None, "routing_number", f"entry {index}: bad routing number")
            account = debit.account_number.strip()
            if not account or len(account) > 17 or not account.isascii() or not account.isalnum():
                raise NachaError(None, "account_number", f"entry {index}: 1–17 letters or digits")
            amount = debit.amount
            if debit.prenote and amount != 0:
                raise NachaError(None, "amount", f"entry {index}: a prenote is zero dollars")
            if not debit.prenote and not 0 < amount <= MAX_AMOUNT:
                raise NachaError(None, "amount", f"entry {index}: out of range")
            name = ach_text(debit.name, 22)
            ident = _alnum(ach_text(debit.identification, 15), 15, "identification")
            discretionary = ("R " if debit.recurring else "S ") if sec == "WEB" else "  "
            trace = odfi8 + str(sequence).zfill(7)
            traces[index] = trace
            sequence += 1
            lines.append(
                "6"
                + str(debit.transaction_code)
                + routing
                + account.ljust(17)
                + str(amount).zfill(10)
                + ident
                + name.ljust(22)
                + discretionary
                + "0"
                + trace
            )
            batch_hash += int(routing[:8])
            batch_debit += amount
        count = len(indexes)
        lines.append(
            "8225"
            + _num(count, 6, "entry_addenda_count")
            + str(batch_hash % 10**10).zfill(10)
            + _num(batch_debit, 12, "total_debit")
            + "0" * 12
            + company_id
            + " " * 25
            + odfi8
            + batch_no
        )
        file_hash += batch_hash
        file_debit += batch_debit
        file_count += count
    blocks = -(-(len(lines) + 1) // BLOCKING_FACTOR)
    lines.append(
        "9"
        + _num(len(order), 6, "batch_count")
        + _num(blocks, 6, "block_count")
        + _num(file_count, 8, "entry_addenda_count")
        + str(file_hash % 10**10).zfill(10)
        + _num(file_debit, 12, "total_debit")
        + "0" * 12
        + " " * 39
    )
    lines.extend([FILLER] * (blocks * BLOCKING_FACTOR - len(lines)))
    return Written(
        text="\n".join(lines) + "\n",
        trace_numbers=traces,
        entry_count=file_count,
        total_debit=file_debit,
        entry_hash=file_hash % 10**10,
    )


# ---------------------------------------------------------------------------------------------
# Reader


@dataclass(slots=True)
class Addenda:
    """Addenda 05: payment-related information."""

    line: int
    information: str
    sequence_number: int


@dataclass(slots=True)
class ReturnAddenda:
    """Addenda 99: a return, with its reason code and the trace number of the original entry."""

    line: int
    return_code: str
    original_trace: str
    date_of_death: str
    original_rdfi: str
    information: str


@dataclass(slots=True)
class ChangeAddenda:
    """Addenda 98: a notification of change, with its change code and the corrected data."""

    line: int
    change_code: str
    original_trace: str
    original_rdfi: str
    corrected_data: str


@dataclass(slots=True)
class Entry:
    line: int
    transaction_code: int
    routing_number: str  # 9 digits, check digit included
    account_number: str
    amount: int
    identification: str
    name: str
    discretionary: str
    trace_number: str
    addenda_indicator: str
    addenda: list[Addenda | ReturnAddenda | ChangeAddenda] = field(default_factory=list)

    @property
    def is_debit(self) -> bool:
        return self.transaction_code in DEBIT_CODES

    @property
    def is_prenote(self) -> bool:
        return self.transaction_code in PRENOTE_CODES

    @property
    def return_addenda(self) -> ReturnAddenda | None:
        return next((a for a in self.addenda if isinstance(a, ReturnAddenda)), None)

    @property
    def change_addenda(self) -> ChangeAddenda | None:
        return next((a for a in self.addenda if isinstance(a, ChangeAddenda)), None)


@dataclass(slots=True)
class Batch:
    line: int
    service_class: int
    company_name: str
    company_discretionary: str
    company_identification: str
    sec_code: str
    entry_description: str
    descriptive_date: str
    effective_date: str  # YYMMDD as written (returns may carry blanks or zeros)
    originator_status: str
    odfi: str
    batch_number: int
    entries: list[Entry] = field(default_factory=list)
    total_debit: int = 0
    total_credit: int = 0
    entry_hash: int = 0


@dataclass(slots=True)
class AchFile:
    immediate_destination: str
    immediate_origin: str
    created: str  # YYMMDDHHMM
    file_id_modifier: str
    destination_name: str
    origin_name: str
    reference_code: str
    batches: list[Batch] = field(default_factory=list)
    total_debit: int = 0
    total_credit: int = 0
    entry_hash: int = 0
    entry_addenda_count: int = 0

    def entries(self) -> Iterable[Entry]:
        for batch in self.batches:
            yield from batch.entries


def _split_lines(data: str) -> list[str]:
    if "\n" not in data and "\r" not in data and data and len(data) % RECORD_SIZE == 0:
        return [data[i : i + RECORD_SIZE] for i in range(0, len(data), RECORD_SIZE)]
    lines = data.splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _int(text: str, line: int, name: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise NachaError(line, name, f"not numeric: {text!r}")
    return int(text)


def _yymmdd(text: str, line: int, name: str) -> None:
    try:
        datetime.strptime(text, "%y%m%d")
    except ValueError:
        raise NachaError(line, name, f"not a date (YYMMDD): {text!r}") from None


def read_file(
    data: bytes | str,
    *,
    pad_short_lines: bool = False,
    allow_custom_return_codes: bool = False,
) -> AchFile:
    """Parse and check a whole file. Strict by default: a line shorter than 94 is an error unless
    `pad_short_lines` (some banks trim trailing spaces); an R-code NACHA does not define is an error
    unless `allow_custom_return_codes`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise NachaError(line, "record", "not ASCII") from None
    lines = _split_lines(data)
    if not lines:
        raise NachaError(1, "record_type", "the file is empty")
    for number, text in enumerate(lines, start=1):
        if len(text) != RECORD_SIZE:
            if pad_short_lines and len(text) < RECORD_SIZE:
                lines[number - 1] = text.ljust(RECORD_SIZE)
            else:
                raise NachaError(
                    number, "record_length", f"{len(text)} characters, not {RECORD_SIZE}"
                )
        if not text.isascii() or not text.isprintable():
            raise NachaError(number, "record", "only printable ASCII is allowed")
    ach = _read_header(lines[0])
    routing_ok: dict[str, bool] = {}
    batch: Batch | None = None
    entry: Entry | None = None
    batch_count = 0
    index = 1
    total = len(lines)
    while index < total:
        text = lines[index]
        number = index + 1
        kind = text[0]
        if kind == "6":
            if batch is None:
                raise NachaError(number, "record_type", "an entry outside a batch")
            _check_addenda_present(entry)
            entry = _read_entry(text, number, batch, routing_ok)
            batch.entries.append(entry)
        elif kind == "7":
            if entry is None:
                raise NachaError(number, "record_type", "an addenda without its entry")
            _read_addenda(text, number, entry, allow_custom_return_codes)
        elif kind == "5":
            if batch is not None:
                raise NachaError(number, "record_type", "a batch header before the batch control")
            batch = _read_batch_header(text, number)
            entry = None
        elif kind == "8":
            if batch is None:
                raise NachaError(number, "record_type", "a batch control without its header")
            _check_addenda_present(entry)
            _check_batch_control(text, number, batch)
            ach.batches.append(batch)
            ach.total_debit += batch.total_debit
            ach.total_credit += batch.total_credit
            ach.entry_hash += batch.entry_hash
            ach.entry_addenda_count += sum(1 + len(e.addenda) for e in batch.entries)
            batch_count += 1
            batch = None
            entry = None
        elif kind == "9":
            if batch is not None:
                raise NachaError(number, "record_type", "the file control inside a batch")
            _check_file_control(text, number, ach, batch_count, total)
            for rest in range(index + 1, total):
                if lines[rest] != FILLER:
                    raise NachaError(
                        rest + 1, "record_type", "only lines of 9s after the file control"
                    )
            return ach
        else:
            raise NachaError(number, "record_type", f"unknown record type {kind!r}")
        index += 1
    raise NachaError(total, "record_type", "the file has no file control record (9)")


def _check_addenda_present(entry: Entry | None) -> None:
    if entry is not None and entry.addenda_indicator == "1" and not entry.addenda:
        raise NachaError(entry.line, "addenda_record_indicator", "1 but no addenda follows")


def _read_header(text: str) -> AchFile:
    if text[0] != "1":
        raise NachaError(1, "record_type", "the file must begin with a file header (1)")
    if text[1:3] != "01":
        raise NachaError(1, "priority_code", f"{text[1:3]!r}, not '01'")
    if text[33] not in _MOD_CHARS:
        raise NachaError(1, "file_id_modifier", f"{text[33]!r} is not A–Z or 0–9")
    if text[34:37] != "094":
        raise NachaError(1, "record_size", f"{text[34:37]!r}, not '094'")
    if text[37:39] != "10":
        raise NachaError(1, "blocking_factor", f"{text[37:39]!r}, not '10'")
    if text[39] != "1":
        raise NachaError(1, "format_code", f"{text[39]!r}, not '1'")
    destination = text[3:13].strip()
    if not destination.isdigit():
        raise NachaError(1, "immediate_destination", f"not a routing number: {text[3:13]!r}")
    if not text[13:23].strip():
        raise NachaError(1, "immediate_origin", "missing")
    _yymmdd(text[23:29], 1, "file_creation_date")
    time = text[29:33]
    if time.strip() and (not time.isdigit() or int(time[:2]) > 23 or int(time[2:]) > 59):
        raise NachaError(1, "file_creation_time", f"not a time (HHMM): {time!r}")
    return AchFile(
        immediate_destination=destination,
        immediate_origin=text[13:23].strip(),
        created=text[23:33],
        file_id_modifier=text[33],
        destination_name=text[40:63].rstrip(),
        origin_name=text[63:86].rstrip(),
        reference_code=text[86:94].rstrip(),
    )


def _read_batch_header(text: str, number: int) -> Batch:
    service_class = _int(text[1:4], number, "service_class_code")
    if service_class not in SERVICE_CLASSES:
        raise NachaError(number, "service_class_code", f"{service_class} is not 200/220/225/280")
    sec = text[50:53]
    if not sec.isalpha() or not sec.isupper():
        raise NachaError(number, "standard_entry_class_code", f"{sec!r}")
    effective = text[69:75]
    if effective.strip() and effective != "000000":
        _yymmdd(effective, number, "effective_entry_date")
    if text[78] not in "012":
        raise NachaError(number, "originator_status_code", f"{text[78]!r}")
    odfi = text[79:87]
    _int(odfi, number, "odfi_identification")
    return Batch(
        line=number,
        service_class=service_class,
        company_name=text[4:20].rstrip(),
        company_discretionary=text[20:40].rstrip(),
        company_identification=text[40:50],
        sec_code=sec,
        entry_description=text[53:63].rstrip(),
        descriptive_date=text[63:69].rstrip(),
        effective_date=effective,
        originator_status=text[78],
        odfi=odfi,
        batch_number=_int(text[87:94], number, "batch_number"),
    )


def _read_entry(text: str, number: int, batch: Batch, routing_ok: dict[str, bool]) -> Entry:
    code_text = text[1:3]
    code = _int(code_text, number, "transaction_code")
    is_debit = code in DEBIT_CODES
    if not is_debit and code not in CREDIT_CODES:
        raise NachaError(number, "transaction_code", f"{code_text} is not a transaction code")
    if batch.service_class == 225 and not is_debit:
        raise NachaError(number, "transaction_code", f"credit {code_text} in a debit-only batch")
    if batch.service_class == 220 and is_debit:
        raise NachaError(number, "transaction_code", f"debit {code_text} in a credit-only batch")
    routing = text[3:12]
    ok = routing_ok.get(routing)
    if ok is None:
        if not routing[:8].isdigit() or not routing[:8].isascii():
            raise NachaError(number, "rdfi_identification", f"not 8 digits: {routing[:8]!r}")
        ok = routing_ok[routing] = routing[8].isdigit() and valid_routing(routing)
    if not ok:
        raise NachaError(
            number, "check_digit", f"{routing[8]!r} is not the check digit of {routing[:8]}"
        )
    account = text[12:29].rstrip()
    if not account:
        raise NachaError(number, "dfi_account_number", "missing")
    amount = _int(text[29:39], number, "amount")
    indicator = text[78]
    if indicator != "0" and indicator != "1":
        raise NachaError(number, "addenda_record_indicator", f"{indicator!r} is not 0 or 1")
    trace = text[79:94]
    if not trace.isdigit():
        raise NachaError(number, "trace_number", f"not numeric: {trace!r}")
    if batch.entries and trace <= batch.entries[-1].trace_number:
        raise NachaError(number, "trace_number", "trace numbers must ascend within a batch")
    batch.entry_hash += int(routing[:8])
    if is_debit:
        batch.total_debit += amount
    else:
        batch.total_credit += amount
    return Entry(
        line=number,
        transaction_code=code,
        routing_number=routing,
        account_number=account,
        amount=amount,
        identification=text[39:54].rstrip(),
        name=text[54:76].rstrip(),
        discretionary=text[76:78],
        trace_number=trace,
        addenda_indicator=indicator,
    )


def _read_addenda(text: str, number: int, entry: Entry, allow_custom: bool) -> None:
    if entry.addenda and text[1:3] in ("98", "99"):
        raise NachaError(number, "addenda_type_code", "a second return or change addenda")
    kind = text[1:3]
    if kind == "05":
        sequence = _int(text[83:87], number, "addenda_sequence_number")
        if sequence != len(entry.addenda) + 1:
            raise NachaError(number, "addenda_sequence_number", f"{sequence}, expected in order")
        if text[87:94] != entry.trace_number[8:]:
            raise NachaError(
                number, "entry_detail_sequence_number", "does not match its entry's trace number"
            )
        entry.addenda.append(Addenda(number, text[3:83].rstrip(), sequence))
    elif kind == "99":
        code = text[3:6]
        if code[0] != "R" or not code[1:].isdigit():
            raise NachaError(number, "return_reason_code", f"{code!r} is not an R-code")
        if code not in RETURN_CODES and not allow_custom:
            raise NachaError(number, "return_reason_code", f"{code} is not a NACHA return code")
        original = text[6:21]
        if not original.isdigit():
            raise NachaError(number, "original_entry_trace_number", f"not numeric: {original!r}")
        entry.addenda.append(
            ReturnAddenda(
                number, code, original, text[21:27].strip(), text[27:35], text[35:79].rstrip()
            )
        )
    elif kind == "98":
        code = text[3:6]
        if code not in CHANGE_CODES:
            raise NachaError(number, "change_code", f"{code!r} is not a NACHA change code")
        original = text[6:21]
        if not original.isdigit():
            raise NachaError(number, "original_entry_trace_number", f"not numeric: {original!r}")
        corrected = text[35:64].rstrip()
        if not corrected:
            raise NachaError(number, "corrected_data", "missing")
        entry.addenda.append(ChangeAddenda(number, code, original, text[27:35], corrected))
    else:
        raise NachaError(number, "addenda_type_code", f"{kind!r} is not 05, 98 or 99")
    if entry.addenda_indicator != "1":
        raise NachaError(entry.line, "addenda_record_indicator", "0 but an addenda follows")


def _check_batch_control(text: str, number: int, batch: Batch) -> None:
    if _int(text[1:4], number, "service_class_code") != batch.service_class:
        raise NachaError(number, "service_class_code", "differs from the batch header")
    count = sum(1 + len(e.addenda) for e in batch.entries)
    if _int(text[4:10], number, "entry_addenda_count") != count:
        raise NachaError(number, "entry_addenda_count", f"{text[4:10]}, the batch has {count}")
    if _int(text[10:20], number, "entry_hash") != batch.entry_hash % 10**10:
        raise NachaError(
            number, "entry_hash", f"{text[10:20]}, the entries sum to {batch.entry_hash % 10**10}"
        )
    if _int(text[20:32], number, "total_debit_entry_dollar_amount") != batch.total_debit:
        raise NachaError(
            number, "total_debit_entry_dollar_amount", f"the entries sum to {batch.total_debit}"
        )
    if _int(text[32:44], number, "total_credit_entry_dollar_amount") != batch.total_credit:
        raise NachaError(
            number, "total_credit_entry_dollar_amount", f"the entries sum to {batch.total_credit}"
        )
    if text[44:54].strip() != batch.company_identification.strip():
        raise NachaError(number, "company_identification", "differs from the batch header")
    if text[79:87] != batch.odfi:
        raise NachaError(number, "odfi_identification", "differs from the batch header")
    if _int(text[87:94], number, "batch_number") != batch.batch_number:
        raise NachaError(number, "batch_number", "differs from the batch header")
    batch.entry_hash %= 10**10


def _check_file_control(text: str, number: int, ach: AchFile, batches: int, lines: int) -> None:
    if _int(text[1:7], number, "batch_count") != batches:
        raise NachaError(number, "batch_count", f"{text[1:7]}, the file has {batches}")
    if lines % BLOCKING_FACTOR:
        raise NachaError(lines, "block_count", f"{lines} lines is not a multiple of 10")
    if _int(text[7:13], number, "block_count") != lines // BLOCKING_FACTOR:
        raise NachaError(number, "block_count", f"{text[7:13]}, the file has {lines // 10}")
    if _int(text[13:21], number, "entry_addenda_count") != ach.entry_addenda_count:
        raise NachaError(
            number, "entry_addenda_count", f"{text[13:21]}, the file has {ach.entry_addenda_count}"
        )
    ach.entry_hash %= 10**10
    if _int(text[21:31], number, "entry_hash") != ach.entry_hash:
        raise NachaError(
            number, "entry_hash", f"{text[21:31]}, the batches sum to {ach.entry_hash}"
        )
    if _int(text[31:43], number, "total_debit_entry_dollar_amount") != ach.total_debit:
        raise NachaError(
            number, "total_debit_entry_dollar_amount", f"the batches sum to {ach.total_debit}"
        )
    if _int(text[43:55], number, "total_credit_entry_dollar_amount") != ach.total_credit:
        raise NachaError(
            number, "total_credit_entry_dollar_amount", f"the batches sum to {ach.total_credit}"
        )
