"""Privacy attacks on Veil's redacted output (issue 3): material, stand-in redactors, attacks."""
