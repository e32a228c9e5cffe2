"""Runtime pieces every Encore service shares, so each service's own code is only its domain."""
