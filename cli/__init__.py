"""The command line face of sanctions-ledger: parse, make one call, render."""
