"""Return and NOC files as a bank sends them, written here by the NACHA layout (not by our
writer), for the importer's tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    original_trace: str
    code: str  # R01… or C01…
    routing: str = "011000015"
    account: str = "123456789"
    amount: int = 0
    corrected: str = ""  # NOC corrected data (29 characters at most)


def return_file(items: list[Item], *, odfi8: str = "01100001") -> str:
    lines = [
        "101"
        + " 021000021"
        + " 011000015"
        + "2606251200"
        + "A094101"
        + "ACME SUPPLY".ljust(23)
        + "FIRST BANK".ljust(23)
        + " " * 8
    ]
    lines.append(
        "5200"
        + "ACME SUPPLY".ljust(16)
        + " " * 20
        + "1234567890"
        + "WEB"
        + "INVOICES".ljust(10)
        + " " * 6
        + "260625"
        + "   "
        + "1"
        + odfi8
        + "0000001"
    )
    hashed = debit = credit = 0
    for number, item in enumerate(items, start=1):
        trace = odfi8 + str(number).zfill(7)
        noc = item.code.startswith("C")
        code = "26"  # a return or NOC of a checking debit (27)
        lines.append(
            "6"
            + code
            + item.routing
            + item.account.ljust(17)
            + str(item.amount).zfill(10)
            + "P1".ljust(15)
            + "MARIA NUNEZ".ljust(22)
            + "  "
            + "1"
            + trace
        )
        if noc:
            lines.append(
                "798"
                + item.code
                + item.original_trace
                + " " * 6
                + item.original_trace[:8]
                + item.corrected.ljust(29)
                + " " * 15
                + trace
            )
        else:
            lines.append(
                "799"
                + item.code
                + item.original_trace
                + " " * 6
                + item.original_trace[:8]
                + " " * 44
                + trace
            )
        hashed += int(item.routing[:8])
        debit += item.amount
    lines.append(
        "8200"
        + str(len(items) * 2).zfill(6)
        + str(hashed % 10**10).zfill(10)
        + str(debit).zfill(12)
        + str(credit).zfill(12)
        + "1234567890"
        + " " * 25
        + odfi8
        + "0000001"
    )
    blocks = -(-(len(lines) + 1) // 10)
    lines.append(
        "9"
        + "000001"
        + str(blocks).zfill(6)
        + str(len(items) * 2).zfill(8)
        + str(hashed % 10**10).zfill(10)
        + str(debit).zfill(12)
        + str(credit).zfill(12)
        + " " * 39
    )
    lines += ["9" * 94] * (blocks * 10 - len(lines))
    assert all(len(line) == 94 for line in lines)
    return "\n".join(lines) + "\n"
