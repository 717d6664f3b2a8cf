"""ISO 4217 currencies and their minor units: how many decimals an amount in each may have.

The list is ISO 4217 list one (active codes), without the codes that have no minor unit at all
(precious metals, SDR, bond-market units, the test and "no currency" codes): none of them is a
card transaction's currency. When ISO adds or withdraws a code, change this table; the tests
keep `transaction.schema.json` (the API Gateway model) in step with it.
"""

from __future__ import annotations

from types import MappingProxyType

_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC "
    "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {
        code: decimals
        for codes, decimals in (
            (_ZERO_DECIMALS, 0),
            (_TWO_DECIMALS, 2),
            (_THREE_DECIMALS, 3),
            (_FOUR_DECIMALS, 4),
        )
        for code in codes.split()
    }
)
MAX_MINOR_UNITS = max(MINOR_UNITS.values())


def codes_with_minor_units(decimals: int) -> list[str]:
    """The currency codes whose amounts may have exactly `decimals` decimals, sorted."""
    return sorted(code for code, units in MINOR_UNITS.items() if units == decimals)
