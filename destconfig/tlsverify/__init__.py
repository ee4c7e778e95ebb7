"""tlsverify: what a destination's TLS setting does against its real mail server.

``decision`` holds the rules (pure), ``probe`` the SMTP conversation, ``report``
the wording, and ``check`` ties them to the destination controls table.
"""
