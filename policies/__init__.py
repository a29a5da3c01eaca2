"""Pass/fail policies (import name forgetctl_policies): TOML files naming the thresholds an erase
run must meet to be recorded as an erasure. `forgetctl erase --policy NAME|FILE`."""
