"""``modelclear serve``: the team review web app.

A clearance is requested, audited in the background, reviewed, decided and kept, on the
same database as the registry of records. Modules: ``tables`` (schema), ``events``
(the hash-chained log), ``store`` (accounts, sessions, tokens), ``workflow`` (requests
and decisions), ``worker`` (background audits), ``app`` / ``pages`` / ``api`` (HTTP),
``views`` (plain data for the templates), ``client`` (``check --server``).
"""
