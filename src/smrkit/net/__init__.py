"""The real runtime: replicas as processes over TCP, behind the same ``Node``/``Out``
interface as the simulator.

Modules, one concept each: :mod:`~smrkit.net.codec` (messages to msgpack and back),
:mod:`~smrkit.net.auth` (secrets, tokens, HMAC), :mod:`~smrkit.net.frames` (the wire
frame), :mod:`~smrkit.net.storage` (durable ``out.save``), :mod:`~smrkit.net.config`
(a cluster's configuration file), :mod:`~smrkit.net.replica` (one replica process),
:mod:`~smrkit.net.client` (the client library), :mod:`~smrkit.net.nemesis` (faults on
demand), :mod:`~smrkit.net.admin` (the admin
endpoint's client side), :mod:`~smrkit.net.cluster` (init/up/status/down of local
processes), :mod:`~smrkit.net.jepsen` (workload + nemesis + checked history).
"""
