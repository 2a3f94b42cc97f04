"""A DSN's TLS as each client library takes it, and TLS failures told apart from others.

Every MySQL/MariaDB connection goes through one of these: PyMySQL (start-up checks, the
binlog stream) or mysqlclient (snapshots, MariaDB targets). A DSN without ``ssl-mode``
connects without TLS in both, rather than each library's own default (PyMySQL would
encrypt without checking the certificate, mysqlclient would not encrypt at all).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from cdc.dsn import Dsn
from cdc.dsn_tls import MysqlSslMode, MysqlTls
from cdc.errors import ConfigError

_TLS_WORDS = ("ssl", "tls", "certificate", "x509", "handshake")


def pymysql_tls(dsn: Dsn) -> dict[str, Any]:
    """Keyword arguments for ``pymysql.connect`` (and the binlog reader's settings)."""
    tls = dsn.mysql_tls
    if not tls.enabled:
        return {"ssl_disabled": True}
    return {"ssl": _context(tls)}


def mysqlclient_tls(dsn: Dsn) -> dict[str, Any]:
    """Keyword arguments for ``MySQLdb.connect``. Against MariaDB's client library a
    certificate check also checks the host name, so VERIFY_CA is as strict as
    VERIFY_IDENTITY there."""
    tls = dsn.mysql_tls
    if not tls.enabled:
        return {"ssl_mode": MysqlSslMode.DISABLED.value}
    _require_files(tls)
    files = {"ca": tls.ca, "cert": tls.cert, "key": tls.key}
    return {"ssl_mode": tls.mode.value,
            "ssl": {name: path for name, path in files.items() if path is not None}}


def libpq_options(dsn: Dsn) -> dict[str, Any]:
    """Keyword arguments for ``psycopg2.connect``: the DSN's libpq settings, TLS among them."""
    return dict(dsn.postgres_options)


def is_tls_failure(reason: str) -> bool:
    """Whether a connection error's text is about TLS (a refused certificate, a server
    without TLS) rather than the network or the login."""
    lowered = reason.lower()
    return any(word in lowered for word in _TLS_WORDS)


def mysql_tls_hint(dsn: Dsn, setting: str) -> str:
    tls = dsn.mysql_tls
    if not tls.enabled:
        return (f"the server asks for TLS: add ?ssl-mode=VERIFY_IDENTITY&ssl-ca=<ca.pem> to "
                f"{setting}")
    ca = tls.ca or "the system's CAs"
    return (f"the server's certificate must be signed by the CA in ssl-ca ({ca}) and, with "
            f"ssl-mode={tls.mode.value}, name the host {dsn.host!r} "
            f"that {setting} connects to; connect by a name the certificate holds, or fix "
            "ssl-ca; a server without TLS needs ssl_cert and ssl_key in its configuration")


def postgres_tls_hint(dsn: Dsn, setting: str) -> str:
    options = dsn.postgres_options
    mode = options.get("sslmode", "prefer")
    return (f"with sslmode={mode} the server's certificate must be signed by the CA in "
            f"sslrootcert ({options.get('sslrootcert', '~/.postgresql/root.crt')}) and "
            f"name the host {dsn.host!r} that {setting} connects to; connect by a name the "
            "certificate holds, or fix sslrootcert; a server without TLS needs ssl = on")


def _context(tls: MysqlTls) -> ssl.SSLContext:
    _require_files(tls)
    try:
        context = ssl.create_default_context(cafile=tls.ca)
        context.check_hostname = tls.mode is MysqlSslMode.VERIFY_IDENTITY
        context.verify_mode = (ssl.CERT_REQUIRED if tls.mode.verifies_certificate
                               else ssl.CERT_NONE)
        if tls.cert is not None:
            context.load_cert_chain(tls.cert, tls.key)
    except ssl.SSLError as exc:
        raise ConfigError(f"the TLS files named in the DSN cannot be used: {exc}",
                          "ssl-ca, ssl-cert and ssl-key must be PEM files: a CA "
                          "certificate, the client's certificate and its key") from None
    return context


def _require_files(tls: MysqlTls) -> None:
    for option, path in (("ssl-ca", tls.ca), ("ssl-cert", tls.cert), ("ssl-key", tls.key)):
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"the file {path} named by the DSN's {option} does not exist",
                              f"give {option} the path of a PEM file readable by this user")
