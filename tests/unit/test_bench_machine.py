"""Machine facts: the CPU model from /proc/cpuinfo and Kafka's version from its jars."""

from __future__ import annotations

from bench.harness.machine import cpu_model, kafka_version

X86 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2450.000

processor\t: 1
model name\t: AMD EPYC 7B13
"""

ARM = """processor\t: 0
BogoMIPS\t: 50.00
CPU implementer\t: 0x41

Hardware\t: BCM2835
"""


def test_the_model_name_of_the_first_cpu() -> None:
    assert cpu_model(X86) == "AMD EPYC 7B13"


def test_other_architectures_and_nothing_known() -> None:
    assert cpu_model(ARM) == "BCM2835"
    assert cpu_model("") == "unknown"


def test_kafka_version_from_the_broker_jar() -> None:
    jars = ["kafka-clients-4.1.1.jar", "kafka_2.13-4.1.1.jar", "kafka-raft-4.1.1.jar"]
    assert kafka_version(jars) == "4.1.1 (Scala 2.13)"
    assert kafka_version(["kafka-clients-4.1.1.jar"]) == "unknown"
