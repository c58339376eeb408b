"""MQTT plumbing for ingest: a paho client set up for a persistent session, reading PUBLISH
packets in batches, batched acks."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt import _packet
from paho.mqtt.client import MQTT_LOG_ERR, MQTTErrorCode, MQTTMessage, time_func
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from idleshare.urls import MqttUrl

#: ``client_factory(client_id, protocol)`` -> an unconnected paho client.
ClientFactory = Callable[[str, int], mqtt.Client]


#: In-flight window of our own publishes with MQTT 3.1.1, which lets the broker announce none.
V311_WINDOW = 1000


class BatchReadClient(mqtt.Client):
    """paho's client, reading the socket in large chunks and decoding their PUBLISH packets.

    paho reads every packet with three or more ``recv`` calls (the command byte, each byte of
    the remaining length, the body), goes round its ``select`` loop for each, and builds a
    ``Properties`` object for every MQTT 5 PUBLISH: that is most of a subscriber's CPU per
    message (docs/ingest.md, Performance). This client reads up to ``CHUNK`` bytes per
    ``recv`` and takes every complete packet out of them in order: a QoS 0 or 1 PUBLISH
    without properties becomes an ``MQTTMessage`` here and goes to paho's own dispatch
    (``on_message``, filtered callbacks); any other packet (CONNACK, SUBACK, PUBACK, PINGRESP,
    DISCONNECT, QoS 2, a PUBLISH carrying properties) is handed to paho's handler exactly as
    paho's reader would. Connecting, TLS, sessions, keepalive, reconnects and all writes stay
    paho's. A partial packet waits in the buffer for the next read; a new socket starts with
    an empty one.
    """

    CHUNK = 256 * 1024

    _read_buffer: bytearray
    _read_socket: object

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """One read (every complete packet in it) per round of paho's loop. paho's own reads
        once per message it has in flight, right for a packet per read; with a chunk per read
        that kept the thread reading a broker's whole window, tens of thousands of messages,
        before it wrote a PUBACK or a PINGREQ: a CPU-starved ingest was dropped for exceeding
        its keepalive, and drained again what it had not yet acknowledged."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        rc = self._packet_read()
        if rc > 0:
            return self._loop_rc_handle(rc)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_read(self) -> MQTTErrorCode:
        sock = self._sock
        if getattr(self, "_read_socket", None) is not sock:
            self._read_socket, self._read_buffer = sock, bytearray()
        try:
            data = self._sock_recv(self.CHUNK)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:  # TimeoutError included
            self._easy_log(MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = time_func()
        self._read_buffer += data
        return self._take_packets(self._read_buffer, sock)

    def _take_packets(self, buf: bytearray, sock: object) -> MQTTErrorCode:
        """Handle every complete packet at the start of ``buf``, removing each from it before
        its handler runs (a callback that raises never sees it again)."""
        v5 = self._protocol == mqtt.MQTTv5
        now = time_func()
        while len(buf) >= 2:
            # Remaining length: 1 to 4 bytes of 7 bits, least significant first.
            length, shift, at = 0, 0, 1
            while True:
                if at == len(buf):
                    return MQTTErrorCode.MQTT_ERR_SUCCESS  # the rest comes with the next read
                byte = buf[at]
                at += 1
                length |= (byte & 127) << shift
                if byte < 128:
                    break
                shift += 7
                if shift > 21:
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL
            end = at + length
            if end > len(buf):
                break
            command, packet = buf[0], buf[:end]
            del buf[:end]
            rc = MQTTErrorCode.MQTT_ERR_SUCCESS
            # PUBLISH at QoS 0 or 1 (dup and retain flags masked out)
            message = _publish(packet, command, at, v5) if command & 0xF6 in (0x30, 0x32) else None
            if message is not None:
                message.timestamp = now
                self._dispatch(message)
                if message.qos and not self._manual_ack:
                    rc = self._send_puback(message.mid)  # as paho's handler, after on_message
            else:
                rc = self._handle_other(command, length, packet[at:])
            if rc:
                return rc
            if self._sock is not sock:
                break  # closed by a handler: the rest belongs to a finished connection
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _dispatch(self, message: MQTTMessage) -> None:
        """paho's ``_handle_on_message`` without its per-message topic matching when no
        filtered callback (``message_callback_add``) is registered: straight to on_message."""
        if self._on_message_filtered._root._children:
            self._handle_on_message(message)
            return
        on_message = self.on_message
        if on_message is None:
            return
        with self._in_callback_mutex:
            try:
                on_message(self, self._userdata, message)
            except Exception as err:
                self._easy_log(MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                if not self.suppress_exceptions:
                    raise

    def _handle_connack(self) -> MQTTErrorCode:
        """paho's, with the window of our own QoS 1 publishes (receipts, dead letters) widened
        from paho's fixed 20 to what the broker accepts: the MQTT 5 Receive Maximum of its
        CONNACK (65,535 when absent, as the standard says), ``V311_WINDOW`` for 3.1.1. With 20,
        and the network thread busy reading, receipts queue up faster than their PUBACKs come
        back, and paho scans its whole queue on each PUBACK: seen to stall the thread past the
        keepalive with a million messages queued at the broker."""
        window = V311_WINDOW
        if self._protocol == mqtt.MQTTv5:
            connack = _packet.decode_connack(self._in_packet["command"],
                                             self._in_packet["packet"], self._protocol)
            window = getattr(connack.properties, "ReceiveMaximum", 65535)
        self._max_inflight_messages = window  # paho's own setter refuses while connected
        return super()._handle_connack()

    def _handle_other(self, command: int, length: int, body: bytearray) -> MQTTErrorCode:
        """A packet for paho's own handler, set up as its reader leaves it."""
        self._in_packet = {"command": command, "have_remaining": 1, "remaining_count": [],
                           "remaining_mult": 1, "remaining_length": length, "packet": body,
                           "to_process": 0, "pos": 0}
        try:
            return self._packet_handle()
        except mqtt.MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet = {"command": 0, "have_remaining": 0, "remaining_count": [],
                               "remaining_mult": 1, "remaining_length": 0,
                               "packet": bytearray(b""), "to_process": 0, "pos": 0}


def _publish(packet: bytearray, command: int, at: int, v5: bool) -> MQTTMessage | None:
    """The message of a QoS 0/1 PUBLISH whose body starts at ``at``; None when it carries MQTT 5
    properties or looks malformed, for paho's handler to take (and to say what is wrong)."""
    end = len(packet)
    if end - at < 2:
        return None
    topic_end = at + 2 + (packet[at] << 8 | packet[at + 1])
    body, mid = topic_end, 0
    qos = (command >> 1) & 3
    if qos:
        if body + 2 > end:
            return None
        mid = packet[body] << 8 | packet[body + 1]
        body += 2
    if v5:
        if body >= end or packet[body]:  # no property length, or properties to decode
            return None
        body += 1
    elif topic_end == at + 2 or body > end:  # MQTT 3.1.1 forbids an empty topic
        return None
    return _Received(mid, bytes(packet[at + 2:topic_end]), bytes(packet[body:]), qos,
                     bool(command & 1), bool(command & 8))


class _Received(MQTTMessage):
    """An ``MQTTMessage`` as paho's reader makes it, less the ``MQTTMessageInfo`` (and its
    ``threading.Condition``) that only outgoing messages use: every received one shares one."""

    __slots__ = ()
    _INFO = mqtt.MQTTMessageInfo(0)

    def __init__(self, mid: int, topic: bytes, payload: bytes, qos: int, retain: bool,
                 dup: bool) -> None:
        self.mid, self._topic, self.payload, self.qos = mid, topic, payload, qos
        self.retain, self.dup, self.timestamp = retain, dup, 0.0
        self.state, self.properties, self.info = mqtt.mqtt_ms_invalid, None, self._INFO


def paho_client(client_id: str, protocol: int = mqtt.MQTTv311) -> mqtt.Client:
    """A client that leaves acknowledging to the caller, keeps its session and reads PUBLISH
    packets in batches."""
    return _client(BatchReadClient, client_id, protocol)


def plain_paho_client(client_id: str, protocol: int = mqtt.MQTTv311) -> mqtt.Client:
    """As :func:`paho_client` with paho's own reader (for comparison: ``python -m bench``)."""
    return _client(mqtt.Client, client_id, protocol)


def _client(cls: type[mqtt.Client], client_id: str, protocol: int) -> mqtt.Client:
    version = mqtt.MQTTProtocolVersion(protocol)
    if version == mqtt.MQTTv5:
        return cls(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version,
                   manual_ack=True)
    return cls(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version,
               clean_session=False, manual_ack=True)


def connect(client: mqtt.Client, url: MqttUrl, keepalive_s: int = 30,
            receive_maximum: int = 1000, session_expiry_s: int = 7 * 86400) -> None:
    """Start connecting in the background (paho reconnects on its own after a loss).

    MQTT 5 lets the client cap unacknowledged deliveries (Receive Maximum) and asks for the
    session to outlive the connection; MQTT 3.1.1 keeps it with clean_session=False and the
    broker's own in-flight limit applies.
    """
    if url.username:
        client.username_pw_set(url.username, url.password or None)
    if url.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    if client.protocol == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.ReceiveMaximum = receive_maximum
        props.SessionExpiryInterval = session_expiry_s
        client.connect_async(url.host, url.port, keepalive_s, clean_start=False, properties=props)
    else:
        client.connect_async(url.host, url.port, keepalive_s)


def wait_settled(client: mqtt.Client, timeout_s: float = 2.0) -> bool:
    """Wait (up to ``timeout_s``) until paho has written every queued packet and the broker has
    acknowledged every QoS 1 message we published; True if it did. Call before ``disconnect``:
    a socket closed with the broker's answers (PUBACKs of our receipts) still unread is reset
    (TCP RST), and the broker then drops what it had not read yet, our last PUBACKs among it,
    and delivers those messages again. Clients other than paho's have nothing to wait for."""
    deadline = time.monotonic() + timeout_s
    while getattr(client, "_out_packet", None) or getattr(client, "_out_messages", None):
        if time.monotonic() > deadline or not client.is_connected():
            return False
        time.sleep(0.005)
    return True


#: A PUBACK as a big-endian 32-bit number: fixed header 0x40, remaining length 2, packet id.
_PUBACK_HEADER = 0x4002_0000


def ack_many(client: mqtt.Client, acks: Sequence[tuple[int, int]]) -> None:
    """Acknowledge ``(mid, qos)`` pairs, the QoS 1 ones in ONE queued write.

    ``client.ack`` per message costs a wake-up byte on paho's socket pair, a trip round the
    network thread's select loop and a 4-byte ``send`` each: at 10,000+ messages a second that
    was a fifth of ingest's time. The PUBACKs are concatenated instead and queued once through
    paho's own packet queue (paho 2.x; the same path ``ack`` takes, so ordering and the queue's
    reset on a lost connection are unchanged; partial sends are resumed by paho). A PUBACK
    without reason code means success in MQTT 3.1.1 and 5 alike. Clients that are not paho's
    (test fakes) and QoS 2 get the per-message call.
    """
    queue = getattr(client, "_packet_queue", None) if isinstance(client, mqtt.Client) else None
    if queue is None:
        for mid, qos in acks:
            client.ack(mid, qos)
        return
    ones = [_PUBACK_HEADER | mid for mid, qos in acks if qos == 1]
    if ones:
        queue(mqtt.PUBACK, struct.pack(f"!{len(ones)}I", *ones), ones[-1] & 0xFFFF, 1)
    for mid, qos in acks:
        if qos == 2:
            client.ack(mid, qos)
