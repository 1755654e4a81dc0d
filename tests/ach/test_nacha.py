"""Our NACHA writer checked by an independent reader written here (positions from the NACHA
layout, not from shared.ach.nacha), round-tripped through our reader, and our reader run on the
moov-io sample files in ../shared/ach-samples (valid ones read, invalid ones refused with where)."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.ach import nacha

# ../shared/ach-samples from the repo root (from a worktree, the nearest such folder above it).
SAMPLES = next(
    p / "shared" / "ach-samples"
    for p in Path(__file__).resolve().parents[2].parents
    if (p / "shared" / "ach-samples").is_dir()
)

ORIGINATOR = nacha.Originator(
    immediate_destination="021000021",
    immediate_destination_name="JPMorgan Chase",
    immediate_origin="1234567890",
    immediate_origin_name="Acme Ñandú Supply",
    odfi_routing="021000021",
    company_identification="1234567890",
    company_name="Acme Ñandú Supply Co",
    entry_description="Invoices",
)
EFFECTIVE = date(2026, 6, 22)
CREATED = datetime(2026, 6, 18, 17, 5)


def _debits() -> list[nacha.Debit]:
    return [
        nacha.Debit("WEB", "011000015", "123456789", False, 12_345, "José Núñez-Müller", "P1"),
        nacha.Debit(
            "CCD", "021000021", "98765432101234567", True, 99_999_999_99, "Harbor View", "P2"
        ),
        nacha.Debit(
            "WEB", "231380104", "55", True, 1, "Zoë Ørsted Straße Þór", "P3", recurring=True
        ),
        nacha.Debit("WEB", "011000015", "77", False, 0, "Prenote Person", "P4", prenote=True),
    ]


# --- an independent minimal reader: NACHA Operating Rules, Appendix Three (1-based positions) ---


def _f(line: str, start: int, end: int) -> str:
    return line[start - 1 : end]


def _independent_read(text: str) -> dict:
    lines = text.split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert all(len(x) == 94 for x in lines)
    assert len(lines) % 10 == 0
    header = lines[0]
    out: dict = {
        "header": {
            "record_type": _f(header, 1, 1),
            "priority": _f(header, 2, 3),
            "destination": _f(header, 4, 13),
            "origin": _f(header, 14, 23),
            "date": _f(header, 24, 29),
            "time": _f(header, 30, 33),
            "modifier": _f(header, 34, 34),
            "record_size": _f(header, 35, 37),
            "blocking": _f(header, 38, 39),
            "format": _f(header, 40, 40),
            "destination_name": _f(header, 41, 63),
            "origin_name": _f(header, 64, 86),
            "reference": _f(header, 87, 94),
        },
        "batches": [],
        "lines": lines,
    }
    batch = None
    for line in lines[1:]:
        kind = line[0]
        if kind == "5":
            batch = {
                "service_class": _f(line, 2, 4),
                "company_name": _f(line, 5, 20),
                "discretionary": _f(line, 21, 40),
                "company_id": _f(line, 41, 50),
                "sec": _f(line, 51, 53),
                "description": _f(line, 54, 63),
                "descriptive_date": _f(line, 64, 69),
                "effective": _f(line, 70, 75),
                "settlement": _f(line, 76, 78),
                "status": _f(line, 79, 79),
                "odfi": _f(line, 80, 87),
                "number": _f(line, 88, 94),
                "entries": [],
            }
            out["batches"].append(batch)
        elif kind == "6":
            batch["entries"].append(
                {
                    "code": _f(line, 2, 3),
                    "rdfi": _f(line, 4, 11),
                    "check": _f(line, 12, 12),
                    "account": _f(line, 13, 29),
                    "amount": _f(line, 30, 39),
                    "ident": _f(line, 40, 54),
                    "name": _f(line, 55, 76),
                    "discretionary": _f(line, 77, 78),
                    "addenda": _f(line, 79, 79),
                    "trace": _f(line, 80, 94),
                }
            )
        elif kind == "8":
            batch["control"] = {
                "service_class": _f(line, 2, 4),
                "count": _f(line, 5, 10),
                "hash": _f(line, 11, 20),
                "debit": _f(line, 21, 32),
                "credit": _f(line, 33, 44),
                "company_id": _f(line, 45, 54),
                "auth": _f(line, 55, 73),
                "reserved": _f(line, 74, 79),
                "odfi": _f(line, 80, 87),
                "number": _f(line, 88, 94),
            }
        elif kind == "9" and "control" not in out:
            out["control"] = {
                "batches": _f(line, 2, 7),
                "blocks": _f(line, 8, 13),
                "count": _f(line, 14, 21),
                "hash": _f(line, 22, 31),
                "debit": _f(line, 32, 43),
                "credit": _f(line, 44, 55),
                "reserved": _f(line, 56, 94),
            }
    return out


def _aba_check(routing8: str) -> int:
    weights = [3, 7, 1, 3, 7, 1, 3, 7]
    return (10 - sum(int(d) * w for d, w in zip(routing8, weights, strict=True)) % 10) % 10


def test_the_writer_output_field_by_field() -> None:
    written = nacha.write_file(
        ORIGINATOR, _debits(), effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="B"
    )
    got = _independent_read(written.text)
    h = got["header"]
    assert h == {
        "record_type": "1",
        "priority": "01",
        "destination": " 021000021",
        "origin": "1234567890",
        "date": "260618",
        "time": "1705",
        "modifier": "B",
        "record_size": "094",
        "blocking": "10",
        "format": "1",
        "destination_name": "JPMORGAN CHASE".ljust(23),
        "origin_name": "ACME NANDU SUPPLY".ljust(23),
        "reference": " " * 8,
    }
    web, ccd = got["batches"]  # one batch per SEC code, WEB first
    for number, batch, sec in ((1, web, "WEB"), (2, ccd, "CCD")):
        assert batch["service_class"] == "225"  # debits only
        assert batch["sec"] == sec
        assert batch["company_name"] == "ACME NANDU SUPPL"  # cut to 16 characters
        assert batch["company_id"] == "1234567890"
        assert batch["description"] == "INVOICES  "
        assert batch["effective"] == "260622"
        assert batch["settlement"] == "   "  # the ACH operator fills it
        assert batch["status"] == "1"
        assert batch["odfi"] == "02100002"
        assert batch["number"] == str(number).zfill(7)
        control = batch["control"]
        assert control["service_class"] == "225"
        assert control["company_id"] == "1234567890"
        assert control["odfi"] == "02100002"
        assert control["number"] == batch["number"]
        assert int(control["count"]) == len(batch["entries"])
        hashed = sum(int(e["rdfi"]) for e in batch["entries"]) % 10**10
        assert int(control["hash"]) == hashed
        assert int(control["debit"]) == sum(int(e["amount"]) for e in batch["entries"])
        assert int(control["credit"]) == 0
        for entry in batch["entries"]:
            assert int(entry["check"]) == _aba_check(entry["rdfi"])
            assert entry["code"] in {"27", "28", "37", "38"}
            assert entry["addenda"] == "0"
            assert entry["name"].isascii()
            assert entry["name"] == entry["name"].upper()
    names = [e["name"].rstrip() for e in web["entries"]]
    assert names == ["JOSE NUNEZ-MULLER", "ZOE ORSTED STRASSE THO", "PRENOTE PERSON"]
    assert [e["code"] for e in web["entries"]] == ["27", "37", "28"]
    assert [e["amount"] for e in web["entries"]] == ["0000012345", "0000000001", "0000000000"]
    assert [e["discretionary"] for e in web["entries"]] == ["S ", "R ", "S "]
    assert ccd["entries"][0]["discretionary"] == "  "
    assert ccd["entries"][0]["account"] == "98765432101234567"
    assert web["entries"][0]["account"] == "123456789        "
    assert ccd["entries"][0]["amount"] == "9999999999"
    traces = [e["trace"] for b in got["batches"] for e in b["entries"]]
    assert traces == sorted(traces)
    assert len(set(traces)) == len(traces)
    assert all(t.startswith("02100002") for t in traces)
    # The trace numbers handed back are the ones each debit got, in the caller's order.
    assert written.trace_numbers == [traces[0], traces[3], traces[1], traces[2]]
    control = got["control"]
    assert int(control["batches"]) == 2
    lines = got["lines"]
    assert int(control["blocks"]) * 10 == len(lines)
    assert int(control["count"]) == 4
    assert int(control["hash"]) == (1100001 + 2100002 + 23138010 + 1100001) % 10**10
    assert int(control["debit"]) == 12_345 + 99_999_999_99 + 1
    assert control["reserved"] == " " * 39
    ninth = lines.index(next(x for x in lines if x.startswith("9")))
    assert all(x == "9" * 94 for x in lines[ninth + 1 :])


def test_round_trip_through_our_reader() -> None:
    debits = _debits()
    written = nacha.write_file(
        ORIGINATOR, debits, effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="7"
    )
    read = nacha.read_file(written.text.encode())
    assert read.file_id_modifier == "7"
    assert [b.sec_code for b in read.batches] == ["WEB", "CCD"]
    by_trace = {e.trace_number: e for e in read.entries()}
    for debit, trace in zip(debits, written.trace_numbers, strict=True):
        entry = by_trace[trace]
        assert entry.amount == debit.amount
        assert entry.routing_number == debit.routing_number
        assert entry.account_number == debit.account_number
        assert entry.name == nacha.ach_text(debit.name, 22)
        assert entry.is_debit
        assert entry.is_prenote == debit.prenote
    assert read.total_debit == written.total_debit


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"routing_number": "011000016"}, "routing_number"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10_000_000_000}, "amount"),
        ({"account_number": ""}, "account_number"),
        ({"account_number": "1" * 18}, "account_number"),
        ({"account_number": "12-34"}, "account_number"),
        ({"sec_code": "TEL"}, "sec_code"),
    ],
)
def test_the_writer_refuses_what_cannot_be_written(change, field_name) -> None:
    fields = {
        "sec_code": "WEB",
        "routing_number": "011000015",
        "account_number": "1",
        "savings": False,
        "amount": 100,
        "name": "A",
    } | change
    with pytest.raises(nacha.NachaError) as error:
        nacha.write_file(
            ORIGINATOR,
            [nacha.Debit(**fields)],
            effective_date=EFFECTIVE,
            created_at=CREATED,
            file_id_modifier="A",
        )
    assert error.value.field == field_name


def test_the_writer_refuses_a_bad_modifier_and_odfi() -> None:
    for modifier in ("a", "", "AB", "-"):
        with pytest.raises(nacha.NachaError, match="file_id_modifier"):
            nacha.write_file(
                ORIGINATOR,
                [],
                effective_date=EFFECTIVE,
                created_at=CREATED,
                file_id_modifier=modifier,
            )
    bad = nacha.Originator(**_originator(odfi_routing="021000022"))
    with pytest.raises(nacha.NachaError, match="odfi_routing"):
        nacha.write_file(
            bad, [], effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="A"
        )


def _originator(**change) -> dict:
    fields = {name: getattr(ORIGINATOR, name) for name in nacha.Originator.__dataclass_fields__}
    return fields | change


def test_an_empty_file_is_still_well_formed() -> None:
    written = nacha.write_file(
        ORIGINATOR, [], effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="A"
    )
    assert len(written.text.splitlines()) == 10
    assert nacha.read_file(written.text).batches == []


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=8),
    amounts=st.lists(st.integers(min_value=1, max_value=nacha.MAX_AMOUNT), min_size=8, max_size=8),
)
def test_names_and_amounts_round_trip(names, amounts) -> None:
    debits = [
        nacha.Debit(
            "WEB" if i % 2 else "CCD", "011000015", str(i + 1), bool(i % 3), amounts[i], name
        )
        for i, name in enumerate(names)
    ]
    written = nacha.write_file(
        ORIGINATOR, debits, effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="Z"
    )
    read = nacha.read_file(written.text)
    by_trace = {e.trace_number: e for e in read.entries()}
    for debit, trace in zip(debits, written.trace_numbers, strict=True):
        entry = by_trace[trace]
        assert entry.amount == debit.amount
        assert entry.name.isascii()
        assert len(entry.name) <= 22
        assert entry.name == entry.name.upper()
        assert entry.name == nacha.ach_text(debit.name, 22).rstrip()
    assert read.total_debit == sum(amounts[: len(names)])


@given(st.text(alphabet="áéíóúñüçàèÁÉÍÓÚÑÜÇ abc", max_size=30))
def test_accents_fold_to_their_letters(name) -> None:
    folded = nacha.ach_text(name, 22)
    assert folded.isascii()
    assert len(folded) <= 22
    expected = name.upper()
    for accented, plain in zip("ÁÉÍÓÚÑÜÇÀÈ", "AEIOUNUCAE", strict=True):
        expected = expected.replace(accented, plain)
    assert folded == " ".join(expected.split())[:22]


# --- the reader refuses a malformed file with the line and field at fault ------------------


def _good_text() -> str:
    return nacha.write_file(
        ORIGINATOR, _debits(), effective_date=EFFECTIVE, created_at=CREATED, file_id_modifier="A"
    ).text


def _replace(text: str, line: int, start: int, value: str) -> str:
    lines = text.split("\n")
    row = lines[line - 1]
    lines[line - 1] = row[: start - 1] + value + row[start - 1 + len(value) :]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("line", "start", "value", "field_name"),
    [
        (1, 2, "02", "priority_code"),
        (1, 34, "a", "file_id_modifier"),
        (1, 24, "261340", "file_creation_date"),
        (2, 2, "226", "service_class_code"),
        (2, 70, "26AB22", "effective_entry_date"),
        (3, 12, "9", "check_digit"),
        (3, 2, "99", "transaction_code"),
        (3, 2, "22", "transaction_code"),  # a credit in a debit-only batch
        (3, 30, "00000X2345", "amount"),
        (6, 21, "000000099999", "total_debit_entry_dollar_amount"),
        (3, 30, "0000012346", "total_debit_entry_dollar_amount"),  # found by the batch control
        (3, 80, "021000020000009", "trace_number"),  # the next one no longer ascends
        (3, 79, "1", "addenda_record_indicator"),
        (6, 11, "0000000001", "entry_hash"),
        (6, 5, "000004", "entry_addenda_count"),
        (6, 45, "9999999999", "company_identification"),
        (6, 88, "0000009", "batch_number"),
        (10, 2, "000003", "batch_count"),
        (10, 8, "000002", "block_count"),
        (10, 14, "00000005", "entry_addenda_count"),
        (10, 22, "0000000000", "entry_hash"),
        (10, 32, "000000000000", "total_debit_entry_dollar_amount"),
        (10, 44, "000000000001", "total_credit_entry_dollar_amount"),
        (3, 1, "4", "record_type"),
    ],
)
def test_a_malformed_file_is_refused_where_it_is_wrong(line, start, value, field_name) -> None:
    text = _replace(_good_text(), line, start, value)
    expected_line = {(3, 30, "0000012346"): 6, (3, 80, "021000020000009"): 4}.get(
        (line, start, value), line
    )
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(text)
    assert (error.value.line, error.value.field) == (expected_line, field_name), str(error.value)


def test_lengths_encodings_and_order_are_refused_with_their_line() -> None:
    text = _good_text()
    lines = text.split("\n")
    cases = {
        "short": ("\n".join([*lines[:3], lines[3][:90], *lines[4:]]), 4, "record_length"),
        "long": ("\n".join([*lines[:3], lines[3] + " ", *lines[4:]]), 4, "record_length"),
        "an entry missing": ("\n".join(lines[:4] + lines[5:]), 5, "entry_addenda_count"),
        "a block too long": ("\n".join([*lines[:10], "9" * 94, ""]), 11, "block_count"),
        "no file control": ("\n".join(lines[:7]), 7, "record_type"),
        "empty": ("", 1, "record_type"),
        "after the control": (
            "\n".join(
                [*_replace(text, 10, 8, "000002").split("\n")[:10], "1" * 94, *["9" * 94] * 9]
            ),
            11,
            "record_type",
        ),
        "entry before batch": ("\n".join([lines[0], lines[2], *lines[1:]]), 2, "record_type"),
    }
    for name, (data, line, field_name) in cases.items():
        with pytest.raises(nacha.NachaError) as error:
            nacha.read_file(data)
        assert (error.value.line, error.value.field) == (line, field_name), name
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(text.replace("JOSE", "JOSÉ").encode("utf-8"))
    assert (error.value.line, error.value.field) == (3, "record")
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(text.replace("JOSE", "JO\tE"))
    assert (error.value.line, error.value.field) == (3, "record")


def test_files_without_newlines_and_with_crlf_are_read() -> None:
    text = _good_text()
    assert len(list(nacha.read_file(text.replace("\n", "")).entries())) == 4
    assert len(list(nacha.read_file(text.replace("\n", "\r\n")).entries())) == 4


# --- the moov-io sample files -------------------------------------------------------------


def _sample(name: str) -> bytes:
    data = (SAMPLES / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def test_every_sample_is_covered_here() -> None:
    names = {p.name for p in SAMPLES.iterdir() if p.name != "README.md"}
    assert names == {
        "web-debit.ach",
        "ppd-debit.ach",
        "two-micro-deposits.ach",
        "return-WEB.ach",
        "return-PPD-custom-reason-code.ach",
        "cor-example.ach",
        "ppd-debit-invalid-entryDetail-checkDigit.ach",
        "20110729A-invalid.ach",
        "PPD-200-batches-100000-entries.ach.gz",
    }


def test_web_debit_sample() -> None:
    ach = nacha.read_file(_sample("web-debit.ach"))
    assert [b.sec_code for b in ach.batches] == ["WEB", "WEB", "PPD"]
    first = ach.batches[0].entries[0]
    assert (first.routing_number, first.account_number, first.amount) == (
        "081000210",
        "12345678901234567",
        3521,
    )
    assert first.name == "John Doe"
    assert ach.total_credit == 26820
    assert ach.total_debit == 15000


def test_ppd_debit_sample_trimmed_lines_are_reported_unless_padding_is_asked() -> None:
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(_sample("ppd-debit.ach"))
    assert (error.value.line, error.value.field) == (1, "record_length")
    ach = nacha.read_file(_sample("ppd-debit.ach"), pad_short_lines=True)
    (entry,) = ach.entries()
    assert (entry.transaction_code, entry.amount, entry.routing_number) == (
        27,
        100000000,
        "231380104",
    )


def test_two_micro_deposits_sample() -> None:
    ach = nacha.read_file(_sample("two-micro-deposits.ach"))
    entries = list(ach.entries())
    assert [e.amount for e in entries] == [44, 32, 76, 2, 42, 44]
    assert all(isinstance(e.addenda[0], nacha.Addenda) for e in entries)
    assert entries[0].addenda[0].information == "paygate transaction"


def test_return_web_sample() -> None:
    ach = nacha.read_file(_sample("return-WEB.ach"))
    returns = [
        (e.return_addenda.return_code, e.return_addenda.original_trace) for e in ach.entries()
    ]
    assert returns == [("R01", "091400600000001"), ("R03", "091400600000003")]


def test_custom_reason_code_sample_is_refused_unless_allowed() -> None:
    data = _sample("return-PPD-custom-reason-code.ach")
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(data, pad_short_lines=True)
    assert (error.value.line, error.value.field) == (4, "return_reason_code")
    ach = nacha.read_file(data, pad_short_lines=True, allow_custom_return_codes=True)
    (entry,) = ach.entries()
    assert entry.return_addenda.return_code == "R97"


def test_cor_example_sample() -> None:
    ach = nacha.read_file(_sample("cor-example.ach"))
    (entry,) = ach.entries()
    change = entry.change_addenda
    assert (change.change_code, change.original_trace, change.corrected_data) == (
        "C01",
        "121042880000001",
        "1918171614",
    )
    assert ach.batches[0].sec_code == "COR"


def test_invalid_check_digit_sample_is_refused_on_its_entry() -> None:
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(
            _sample("ppd-debit-invalid-entryDetail-checkDigit.ach"), pad_short_lines=True
        )
    assert (error.value.line, error.value.field) == (3, "check_digit")


def test_93_character_header_sample_is_refused_on_line_1() -> None:
    with pytest.raises(nacha.NachaError) as error:
        nacha.read_file(_sample("20110729A-invalid.ach"))
    assert (error.value.line, error.value.field) == (1, "record_length")
    assert "93" in error.value.message


def test_large_sample_is_read() -> None:
    ach = nacha.read_file(_sample("PPD-200-batches-100000-entries.ach.gz"))
    assert len(ach.batches) == 200
    assert sum(len(b.entries) for b in ach.batches) == 100_199
