# ruff: noqa: E501 -- the statement's paragraphs are kept one per line, as the source has them
"""The EU–US joint statement of 21 August 2025, as an analyst would paste it (test data).

Written for the tests from the statement's published terms: a 15 % tariff ceiling from
1 August 2025, $750 billion of US energy purchases and $600 billion of investment through
2028, and a review of the framework within 90 days.
"""

TITLE = "Joint Statement on a United States–European Union Framework on Reciprocal Trade"
TEXT = """Joint Statement on a United States–European Union Framework on an Agreement on Reciprocal, Fair and Balanced Trade

Washington and Brussels, 21 August 2025. The United States of America and the European Union have reached a political agreement on a Framework that sets out the main terms of their trade relationship.

The United States will apply the higher of either the US Most-Favoured-Nation (MFN) tariff or a tariff of 15 %, comprised of the MFN tariff and a reciprocal tariff, on originating goods of the European Union, with effect from 1 August 2025.

The European Union intends to procure United States liquefied natural gas, oil, and nuclear energy products with an expected offtake valued at $750 billion through 2028.

European companies are expected to invest an additional $600 billion across strategic sectors in the United States through 2028.

The United States and the European Union will review the implementation of this Framework within 90 days.

Both sides will continue to work together on standards, economic security and supply chains."""

#: The passages an analyst selects, one per commitment.
TARIFF = "The United States will apply the higher of either the US Most-Favoured-Nation (MFN) tariff or a tariff of 15 %, comprised of the MFN tariff and a reciprocal tariff, on originating goods of the European Union, with effect from 1 August 2025."
ENERGY = "The European Union intends to procure United States liquefied natural gas, oil, and nuclear energy products with an expected offtake valued at $750 billion through 2028."
INVESTMENT = "European companies are expected to invest an additional $600 billion across strategic sectors in the United States through 2028."
REVIEW = "The United States and the European Union will review the implementation of this Framework within 90 days."
