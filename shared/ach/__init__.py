"""ACH: the vendor's NACHA files (built from due ACH payments), their settlement, returns and NOCs."""
