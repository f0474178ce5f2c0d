"""The registry's domain: the household decider, the NIK/KK rules and the proxy-means
test. Pure: no I/O."""
