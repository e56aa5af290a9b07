"""Amounts as a Chinese contract writes them: `1,234,567.80` and 人民币大写.

    money_text(Decimal("1234567.8"))   -> "1,234,567.80"
    rmb_upper(Decimal("1234567.8"))    -> "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角"
    rmb_upper(Decimal("100000"))       -> "壹拾万元整"
    rmb_upper(Decimal("325.04"))       -> "叁佰贰拾伍元零肆分"

大写 follows the People's Bank of China rules for writing amounts (《支付结算办法》附件
《正确填写票据和结算凭证的基本规定》): an amount ending at 元 ends with 整, one ending at
角 or 分 does not; zeros inside the number are written once (零); tens are written 壹拾;
a zero 角 between 元 and 分 is written 零. Amounts are rounded half up to 分. The prefix
人民币 is the template's to write (`人民币（大写）：$amount_upper`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

_DIGITS: Final = "零壹贰叁肆伍陆柒捌玖"
_SMALL: Final = ("", "拾", "佰", "仟")
_GROUPS: Final = ("", "万", "亿")
UPPER_LIMIT: Final = 10**12  # 一万亿元: beyond it 大写 needs units contracts never use
_CENT: Final = Decimal("0.01")


def money_text(amount: Decimal, scale: int = 2) -> str:
    """Thousands separated, exactly `scale` decimals: `1,234,567.80`."""
    quantum = Decimal(1).scaleb(-scale)
    q = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{q if q else abs(q):,.{scale}f}"


def rmb_upper(amount: Decimal) -> str:
    """人民币大写 of an amount (ValueError at or beyond one trillion yuan)."""
    q = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "负" if q < 0 else ""
    cents = int(abs(q) * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if yuan >= UPPER_LIMIT:
        raise ValueError(f"{amount} is too large for 大写 (the limit is {UPPER_LIMIT:,} yuan)")
    if not cents:
        return "零元整"
    out = [_integer(yuan) + "元"] if yuan else []
    if jiao:
        out.append(_DIGITS[jiao] + "角")
    elif yuan and fen:
        out.append("零")
    if fen:
        out.append(_DIGITS[fen] + "分")
    elif not jiao:
        out.append("整")
    return sign + "".join(out)


def _integer(n: int) -> str:
    """A positive whole number below 10^12 in 大写 digits and units, without 元."""
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out = ""
    pending_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _group(group) + _GROUPS[index]
        pending_zero = False
    return out


def _group(group: int) -> str:
    """1..9999 in 大写, zeros inside written once, none at the ends."""
    out = ""
    pending_zero = False
    for position in (3, 2, 1, 0):
        digit = group // 10**position % 10
        if digit == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += _DIGITS[digit] + _SMALL[position]
    return out
