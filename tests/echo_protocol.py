"""The source of a user protocol for the tests that load one from a file (``module:Class``):
a replica that answers every request with the value it carries — no replication at all."""

ECHO_SOURCE = '''
from smrkit.core import ClientReply, ClientRequest, Replica

class Echo(Replica):
    """Answers every request with the value it carries: no replication at all."""

    def on_start(self, out):
        self.is_primary = True

    def on_message(self, src, msg, out):
        if isinstance(msg, ClientRequest):
            out.send(src, ClientReply(msg.client, msg.seq, msg.op.value))
'''
