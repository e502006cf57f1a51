"""The Faust streaming service (built on rules/; decides nothing itself)."""
