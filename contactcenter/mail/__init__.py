"""The e-mail channel's edge: mailboxes read over IMAP, answers sent over SMTP (``edge.py``),
received mail read safely (``message.py``), its settings (``settings.py``, ``mail.yaml``) and
its ``/metrics`` (``metrics.py``). The threads themselves live in ``runtime/mail.py`` and
``store/mail.py``."""
