"""Points and ranks: rules, the ledger, cached totals, ranks, leaderboards."""
