"""The capture configuration: what an operator writes in ``cdc.toml``, validated and frozen.

Field descriptions double as the hints of validation errors. Secrets (the source password,
wherever it comes from) are held so that ``repr``, ``str`` and dumps never show them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    model_validator,
)

from cdc.config.problems import InvalidValueError
from cdc.config.table_filter import SYSTEM_SCHEMAS, TableFilter, TablePattern
from cdc.dsn import Dsn, Engine, parse_dsn
from cdc.errors import ConfigError
from cdc.position import GtidPosition

MAX_SERVER_ID = 4_294_967_295
_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]")
_QUOTED = re.compile(r"'([^']*)'")
# A MySQL GTID set: uuid:interval[:interval...], several joined by commas.
_MYSQL_GTID_SET = re.compile(
    r"^\s*[0-9a-fA-F-]{36}(:\d+(-\d+)?)+(\s*,\s*[0-9a-fA-F-]{36}(:\d+(-\d+)?)+)*\s*$")
_DSN_FORM = ("write it as mysql://user@host:3306/ and give the password in CDC_SOURCE__PASSWORD "
             "or source.password_file; inside a DSN, percent-encode @ : / ? # as "
             "%40 %3A %2F %3F %23")
# Capture sets these itself; an override would break exactly-once delivery or contradict
# the key that owns the value.
_PRODUCER_KEYS_OWNED = {
    "bootstrap.servers": "set kafka.bootstrap_servers instead",
    "transactional.id": "capture derives it from source.name (cdc-capture-<name>)",
    "transaction.timeout.ms": "set kafka.transaction_timeout_ms instead",
    "message.max.bytes": "set kafka.max_record_bytes instead",
    "enable.idempotence": "exactly-once delivery needs it on; capture sets it",
    "acks": "exactly-once delivery needs acks=all; capture sets it",
}

_SECURITY_PROTOCOLS = ("plaintext", "ssl", "sasl_plaintext", "sasl_ssl")


def _is_security_key(name: str) -> bool:
    return name == "security.protocol" or name.startswith(("ssl.", "sasl."))


def _source_dsn(value: object) -> Dsn:
    if not isinstance(value, str):
        raise InvalidValueError("must be a string", _DSN_FORM)
    try:
        dsn = parse_dsn(value)
    except ConfigError as exc:
        raise InvalidValueError(_without_parts_of(value, exc.message), _DSN_FORM) from None
    if dsn.engine is not Engine.MYSQL:
        raise InvalidValueError(
            f"must be a mysql:// or mariadb:// DSN, not {dsn.engine.value}://",
            "capture reads the binlog of a MySQL or MariaDB server; " + _DSN_FORM)
    return dsn


def _without_parts_of(dsn_text: str, message: str) -> str:
    """``message`` with every quoted fragment of the DSN's address part blanked: a password
    holding an unescaped '@' or '/' can end up quoted in the parser's 'bad port' message."""
    address = dsn_text.partition("://")[2]
    return _QUOTED.sub(lambda m: "'***'" if m.group(1) in address else m.group(0), message)


def _not_empty_password(value: SecretStr | None) -> SecretStr | None:
    # An empty CDC_SOURCE__PASSWORD (a failed $(...) in a script) would otherwise replace the
    # password of the file or DSN and end in a puzzling login refusal.
    if value is not None and not value.get_secret_value():
        raise InvalidValueError("is empty", "give the password, or unset CDC_SOURCE__PASSWORD "
                                "to use password_file or the DSN's")
    return value


def _name(value: str) -> str:
    why = "it becomes part of Kafka topic names and the transactional id"
    if not _NAME.match(value):
        raise InvalidValueError(f"{value!r} may hold only letters, digits, '.', '_' and '-'", why)
    if len(value) > 200:
        raise InvalidValueError(f"is {len(value)} characters long; at most 200 fit", why)
    return value


def _topic_prefix(value: str) -> str:
    _name(value)
    longest = 249 - len(".changelog")  # Kafka's limit on a topic name
    if len(value) > longest:
        raise InvalidValueError(f"is {len(value)} characters long; at most {longest} fit",
                                "Kafka topic names are limited to 249 characters")
    return value


def _bootstrap_servers(value: str) -> str:
    for server in value.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit():
            raise InvalidValueError(f"{server.strip()!r} is not host:port",
                                    "list the brokers as host:port[,host:port...], e.g. "
                                    "127.0.0.1:19092")
    return value


def _patterns(values: list[str]) -> list[str]:
    for text in values:
        try:
            pattern = TablePattern.parse(text)
        except ValueError as exc:
            raise InvalidValueError(str(exc)) from None
        if pattern.database in SYSTEM_SCHEMAS:
            raise InvalidValueError(f"{text!r} names a system schema",
                                    f"{', '.join(sorted(SYSTEM_SCHEMAS))} are never captured")
    return values


def _start(value: str) -> str:
    if value in ("current", "earliest"):
        return value
    if not value.startswith("gtid:"):
        raise InvalidValueError(f"{value!r} is not a start position",
                                "use 'current', 'earliest' or 'gtid:<position>', e.g. "
                                "'gtid:0-1001-42' (MariaDB) or 'gtid:<uuid>:1-42' (MySQL)")
    position = value.removeprefix("gtid:")
    if _MYSQL_GTID_SET.match(position):
        return value
    try:
        GtidPosition.parse(position)
    except ConfigError as exc:
        raise InvalidValueError(f"{value!r}: {exc.message}", exc.hint) from None
    return value


def _metrics_address(value: str) -> str:
    if value == "":
        return value
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidValueError(f"{value!r} is not host:port",
                                "write e.g. '127.0.0.1:9108', or '' to serve no metrics")
    return value


class _Section(BaseModel):
    # strict: a TOML string is not silently taken for a number, nor a number for a string.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class SourceSettings(_Section):
    dsn: Annotated[Dsn, PlainValidator(_source_dsn),
                   PlainSerializer(lambda dsn: dsn.redacted(), return_type=str)] = Field(
        description="the source server and the capture user, as mysql://user@host:port/")
    password: Annotated[SecretStr | None, AfterValidator(_not_empty_password)] = Field(
        default=None,
        description="the capture user's password; best given as CDC_SOURCE__PASSWORD")
    password_file: str | None = Field(
        default=None,
        description="a file holding the capture user's password (relative to the config file)")
    server_id: int = Field(
        ge=1, le=MAX_SERVER_ID,
        description="the replica server id capture reads the binlog with; it must differ "
                    "from the source's own server_id and from every other replica's")
    name: Annotated[str, AfterValidator(_name)] = Field(
        default="",
        description="the source's identity in topic names and the transactional id "
                    "(default: <host>-<port> of the DSN)")
    flavor: Literal["auto", "mariadb", "mysql"] = Field(
        default="auto", description="the server kind; 'auto' tells from @@version")

    @model_validator(mode="after")
    def _derived(self) -> SourceSettings:
        if self.password_file is not None and self.password is None:
            raise InvalidValueError("was not read", "load the configuration with load_config, "
                                    "which reads the password file", key="password_file")
        if not self.name:
            derived = _NOT_NAME.sub("-", f"{self.dsn.host}-{self.dsn.port}")
            return self.model_copy(update={"name": derived})
        return self

    @property
    def dsn_with_password(self) -> Dsn:
        """The DSN capture connects with: the password from the ``password`` key (or its
        file) when given, else the one in the DSN."""
        if self.password is None:
            return self.dsn
        return dataclasses.replace(self.dsn, password=self.password.get_secret_value())


class KafkaSettings(_Section):
    bootstrap_servers: Annotated[str, AfterValidator(_bootstrap_servers)] = Field(
        description="the Kafka brokers, host:port[,host:port...]")
    topic_prefix: Annotated[str, AfterValidator(_topic_prefix)] = Field(
        default="", description="the start of every topic name (default: cdc.<source.name>)")
    replication_factor: int = Field(
        default=1, ge=1, le=32767, description="replicas of each topic capture creates")
    min_insync_replicas: int = Field(
        default=1, ge=1, le=32767,
        description="replicas that must have a write before it counts as done")
    commit_interval_ms: int = Field(
        default=200, ge=1, le=600_000,
        description="how long capture batches source transactions into one Kafka transaction")
    transaction_timeout_ms: int = Field(
        default=900_000, ge=1_000, le=2_147_483_647,
        description="the Kafka transaction timeout; at most the broker's "
                    "transaction.max.timeout.ms")
    max_record_bytes: int = Field(
        default=67_108_864, ge=1_024, le=1_000_000_000,
        description="the largest record capture writes; the topics get the same "
                    "max.message.bytes")
    # Values may be credentials (sasl.password, ssl.key.password): shown as keys only.
    producer: Annotated[dict[str, str], PlainSerializer(
        lambda table: dict.fromkeys(table, "***"), return_type=dict[str, str])] = Field(
        default_factory=dict, repr=False,
        description="extra librdkafka producer settings, e.g. linger.ms")
    security: Annotated[dict[str, str], PlainSerializer(
        lambda table: dict.fromkeys(table, "***"), return_type=dict[str, str])] = Field(
        default_factory=dict, repr=False,
        description="librdkafka TLS and SASL settings for every Kafka client (producer, "
                    "consumers, admin): security.protocol, ssl.*, sasl.*")

    @model_validator(mode="after")
    def _consistent(self) -> KafkaSettings:
        if self.min_insync_replicas > self.replication_factor:
            raise InvalidValueError(
                f"is {self.min_insync_replicas}, more than replication_factor "
                f"{self.replication_factor}", "no write could ever succeed; lower it or "
                "raise replication_factor", key="min_insync_replicas")
        if self.commit_interval_ms >= self.transaction_timeout_ms:
            raise InvalidValueError(
                f"is {self.commit_interval_ms}, not shorter than transaction_timeout_ms "
                f"{self.transaction_timeout_ms}", "every Kafka transaction would time out; "
                "lower it", key="commit_interval_ms")
        for owned, why in _PRODUCER_KEYS_OWNED.items():
            if owned in self.producer:
                raise InvalidValueError(f"{owned!r} cannot be set here", why, key="producer")
        for name in self.producer:
            if _is_security_key(name):
                raise InvalidValueError(
                    f"{name!r} cannot be set here", "set it in [kafka.security], which every "
                    "Kafka client uses (the consumers and admin client too)", key="producer")
        for name, value in self.security.items():
            if not _is_security_key(name):
                raise InvalidValueError(
                    f"{name!r} is not a TLS or SASL setting", "kafka.security takes "
                    "security.protocol, ssl.* and sasl.*; other producer settings go in "
                    "[kafka.producer]", key="security")
            if name == "security.protocol" and value.lower() not in _SECURITY_PROTOCOLS:
                raise InvalidValueError(
                    f"security.protocol {value!r} is not one librdkafka knows",
                    f"use one of {', '.join(_SECURITY_PROTOCOLS)}", key="security")
        return self


class CaptureSettings(_Section):
    include: Annotated[list[str], AfterValidator(_patterns)] = Field(
        default_factory=lambda: ["*"], min_length=1,
        description="'db' or 'db.table' patterns (wildcards allowed) of what to capture")
    exclude: Annotated[list[str], AfterValidator(_patterns)] = Field(
        default_factory=list,
        description="patterns left out even when included; system schemas are always left out")
    start: Annotated[str, AfterValidator(_start)] = Field(
        default="current",
        description="where to begin when the changelog is empty: 'current', 'earliest' or "
                    "'gtid:<position>'")
    heartbeat_interval_s: int = Field(
        default=5, ge=1, le=3600,
        description="how often an idle capture records its position in the changelog")
    workers: int | None = Field(
        default=None, ge=0, le=64,
        description="processes that decode the binlog beside a reader process (0: decode in "
                    "the capture process itself); default: the number of cores")
    metrics_address: Annotated[str, AfterValidator(_metrics_address)] = Field(
        default="127.0.0.1:9108",
        description="host:port of the Prometheus metrics, or '' for none")

    @property
    def decoding_workers(self) -> int:
        """The ``workers`` setting, its default resolved."""
        return self.workers if self.workers is not None else (os.cpu_count() or 1)

    @property
    def start_gtid(self) -> str | None:
        """The GTID position of a ``gtid:`` start, else None."""
        return self.start.removeprefix("gtid:") if self.start.startswith("gtid:") else None

    @property
    def metrics_endpoint(self) -> tuple[str, int] | None:
        if not self.metrics_address:
            return None
        host, _, port = self.metrics_address.rpartition(":")
        return host.strip("[]"), int(port)


_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_FORM = "write a number and a unit, e.g. '90s', '30m', '6h' or '7d'; '0' turns it off"


def parse_duration(text: str) -> int:
    """Seconds in '90s', '30m', '6h', '7d' (or '0')."""
    if text.strip() == "0":
        return 0
    match = _DURATION.match(text.strip())
    if match is None:
        raise InvalidValueError(f"{text!r} is not a duration", _DURATION_FORM)
    return int(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _store_url(value: str) -> str:
    scheme, separator, rest = value.partition("://")
    if separator and scheme not in ("file", "s3"):
        raise InvalidValueError(f"{value!r} has the scheme {scheme}://",
                                "use file:///path or s3://bucket/prefix")
    if scheme == "s3" and separator and not rest.split("/", 1)[0]:
        raise InvalidValueError(f"{value!r} names no bucket", "write s3://bucket/prefix")
    return value


class SnapshotSettings(_Section):
    store: Annotated[str, AfterValidator(_store_url)] = Field(
        default="snapshots",
        description="where snapshots go: a directory (relative to the config file), "
                    "file:///path or s3://bucket/prefix")
    interval: Annotated[str, AfterValidator(_duration)] = Field(
        default="0",
        description="how often 'cdc capture' takes a snapshot by itself, e.g. '6h'; '0' never")
    compression: Literal["zstandard", "deflate", "null"] = Field(
        default="zstandard", description="the Avro codec of the data files")
    workers: int = Field(
        default=2, ge=1, le=64,
        description="processes that read and encode at once, each in its own consistent read "
                    "at the same binlog point; about the number of cores to spare")
    file_rows: int = Field(
        default=500_000, ge=1, le=100_000_000,
        description="rows per data file; a table is split into files of this many rows")
    encryption_key_file: str | None = Field(
        default=None, description="a file with the 32-byte AES-256-GCM key; off when unset")
    encryption_key_env: str | None = Field(
        default=None, description="an environment variable holding the key (hex or base64)")
    anchor_wait: Annotated[str, AfterValidator(_duration)] = Field(
        default="60s",
        description="how long a snapshot waits for capture to pass its anchor, to record the "
                    "changelog offset replay starts from")
    s3_endpoint_url: str | None = Field(
        default=None, description="an S3-compatible endpoint, e.g. http://127.0.0.1:9000")
    s3_region: str | None = Field(default=None, description="the S3 region")
    s3_access_key_id: str | None = Field(
        default=None, description="the S3 access key id (default: AWS_ACCESS_KEY_ID)")
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="the S3 secret key; best given as "
                                  "CDC_SNAPSHOTS__S3_SECRET_ACCESS_KEY")

    @property
    def interval_s(self) -> int:
        return parse_duration(self.interval)

    @property
    def anchor_wait_s(self) -> int:
        return parse_duration(self.anchor_wait)


class MonitoringSettings(_Section):
    """Thresholds of 'cdc check --nagios' and of the health metrics; '0' turns one off."""

    rpo_warning: Annotated[str, AfterValidator(_duration)] = Field(
        default="60s", description="RPO (time since the last captured transaction while the "
                                   "source has newer ones) that makes the check WARNING")
    rpo_critical: Annotated[str, AfterValidator(_duration)] = Field(
        default="5m", description="RPO that makes the check CRITICAL")
    behind_warning: int = Field(
        default=10_000, ge=0, description="source transactions not captured yet for WARNING")
    behind_critical: int = Field(
        default=100_000, ge=0, description="source transactions not captured yet for CRITICAL")
    snapshot_age_warning: Annotated[str, AfterValidator(_duration)] = Field(
        default="26h", description="age of the newest usable snapshot for WARNING")
    snapshot_age_critical: Annotated[str, AfterValidator(_duration)] = Field(
        default="50h", description="age of the newest usable snapshot for CRITICAL")
    drill_age_warning: Annotated[str, AfterValidator(_duration)] = Field(
        default="8d", description="age of the last restore drill for WARNING")
    drill_age_critical: Annotated[str, AfterValidator(_duration)] = Field(
        default="15d", description="age of the last restore drill for CRITICAL")
    binlog_retention_warning: Annotated[str, AfterValidator(_duration)] = Field(
        default="24h", description="binlog retention left before the source may purge what "
                                   "capture still needs, for WARNING")
    binlog_retention_critical: Annotated[str, AfterValidator(_duration)] = Field(
        default="6h", description="binlog retention left for CRITICAL")


class DrillSettings(_Section):
    target: str | None = Field(
        default=None,
        description="the scratch server drills restore into: postgresql://user@host:port/db "
                    "(a scratch database is created there) or mysql://user@host:port/ (a "
                    "server kept for drills); the password in CDC_DRILLS__PASSWORD")
    password: SecretStr | None = Field(
        default=None, description="the drill target's password; best given as "
                                  "CDC_DRILLS__PASSWORD")
    interval: Annotated[str, AfterValidator(_duration)] = Field(
        default="0", description="how often 'cdc capture' runs a drill by itself; '0' never")
    point: Literal["latest", "random"] = Field(
        default="latest", description="what a scheduled drill restores to: 'latest' or a "
                                      "'random' point in the restorable window")
    tables: Annotated[list[str], AfterValidator(_patterns)] = Field(
        default_factory=lambda: ["*"], min_length=1,
        description="'db' or 'db.table' patterns of the tables a drill restores and compares")

    @property
    def interval_s(self) -> int:
        return parse_duration(self.interval)


class CaptureConfig(BaseModel):
    """Everything ``cdc capture`` and ``cdc check`` need; built by ``load_config``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    source: SourceSettings
    kafka: KafkaSettings
    capture: CaptureSettings = CaptureSettings()
    snapshots: SnapshotSettings = SnapshotSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    drills: DrillSettings = DrillSettings()

    @model_validator(mode="after")
    def _derived(self) -> CaptureConfig:
        if self.kafka.topic_prefix:
            return self
        kafka = self.kafka.model_copy(update={"topic_prefix": f"cdc.{self.source.name}"})
        return self.model_copy(update={"kafka": kafka})

    @property
    def source_dsn(self) -> Dsn:
        """The source DSN with the password resolved; its repr and str stay redacted."""
        return self.source.dsn_with_password

    @property
    def changelog_topic(self) -> str:
        return f"{self.kafka.topic_prefix}.changelog"

    @property
    def schemas_topic(self) -> str:
        return f"{self.kafka.topic_prefix}.schemas"

    @property
    def transactional_id(self) -> str:
        return f"cdc-capture-{self.source.name}"

    @property
    def table_filter(self) -> TableFilter:
        return TableFilter.from_patterns(self.capture.include, self.capture.exclude)
