"""audit: what each entry's TLS and DANE settings do against what its domain publishes.

``findings`` holds the rules (pure), ``mtasts`` and ``tlsa`` what a domain
publishes (parsed and matched without the network, looked up through
``lookups``), ``runner`` the probes of many entries at once, and ``report`` the
wording. The SMTP probe and its verdict are tlsverify's.
"""
