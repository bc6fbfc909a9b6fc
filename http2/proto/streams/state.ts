/**
 * The stream state machine of RFC 9113 section 5.1, as pure transitions.
 *
 * @module
 */

/**
 * The states of a stream (RFC 9113 section 5.1):
 *
 * ```
 *                              +--------+
 *                      send PP |        | recv PP
 *                     ,--------+  idle  +--------.
 *                    /         |        |         \
 *                   v          +--------+          v
 *            +----------+          |           +----------+
 *            |          |          | send H /  |          |
 *     ,------+ reserved |          | recv H    | reserved +------.
 *     |      | (local)  |          |           | (remote) |      |
 *     |      +---+------+          v           +------+---+      |
 *     |          |             +--------+             |          |
 *     |          |     recv ES |        | send ES     |          |
 *     |   send H |     ,-------+  open  +-------.     | recv H   |
 *     |          |    /        |        |        \    |          |
 *     |          v   v         +---+----+         v   v          |
 *     |      +----------+          |           +----------+      |
 *     |      |   half-  |          |           |   half-  |      |
 *     |      |  closed  |          | send R /  |  closed  |      |
 *     |      | (remote) |          | recv R    | (local)  |      |
 *     |      +----+-----+          |           +-----+----+      |
 *     |           |                |                 |           |
 *     |           | send ES /      |       recv ES / |           |
 *     |           |  send R /      v        send R / |           |
 *     |           |  recv R    +--------+   recv R   |           |
 *     | send R /  `----------->|        |<-----------'  send R / |
 *     | recv R                 | closed |               recv R   |
 *     `----------------------->|        |<-----------------------'
 *                              +--------+
 *
 *   send:   endpoint sends this frame
 *   recv:   endpoint receives this frame
 *   H:  HEADERS frame (with implied CONTINUATION frames)
 *   PP: PUSH_PROMISE frame (with implied CONTINUATION frames)
 *   ES: END_STREAM flag
 *   R:  RST_STREAM frame
 * ```
 *
 * This library never pushes, so the reserved states are only reached by a peer that breaks
 * the rules (and is stopped with PROTOCOL_ERROR first); they are kept for completeness.
 */
export enum StreamState {
  Idle = 0,
  ReservedLocal = 1,
  ReservedRemote = 2,
  Open = 3,
  HalfClosedLocal = 4,
  HalfClosedRemote = 5,
  Closed = 6,
}

/** What receiving a frame in some state means (RFC 9113 section 5.1). */
export enum RecvCheck {
  /** The frame is allowed. */
  Ok = 0,
  /** A stream error of type STREAM_CLOSED (RST_STREAM). */
  StreamClosedStreamError = 1,
  /** A connection error of type STREAM_CLOSED (GOAWAY). */
  StreamClosedConnectionError = 2,
  /** A connection error of type PROTOCOL_ERROR (GOAWAY). */
  ProtocolConnectionError = 3,
}

/**
 * The state after sending HEADERS (a request, a response, or trailers).
 *
 * @param state The current state.
 * @param endStream Whether END_STREAM is set.
 * @returns The next state.
 * @throws {Error} when HEADERS may not be sent in this state (a bug of ours).
 */
export function sendHeaders(state: StreamState, endStream: boolean): StreamState {
  switch (state) {
    case StreamState.Idle:
      return endStream ? StreamState.HalfClosedLocal : StreamState.Open;
    case StreamState.ReservedLocal:
      return endStream ? StreamState.Closed : StreamState.HalfClosedRemote;
    case StreamState.Open:
      return endStream ? StreamState.HalfClosedLocal : StreamState.Open;
    case StreamState.HalfClosedRemote:
      return endStream ? StreamState.Closed : StreamState.HalfClosedRemote;
    default:
      throw new Error(`cannot send HEADERS on a stream in state ${StreamState[state]}`);
  }
}

/**
 * The state after receiving HEADERS, or `null` when HEADERS is not allowed in this state
 * (see {@linkcode checkRecv} for the error).
 *
 * @param state The current state.
 * @param endStream Whether END_STREAM is set.
 * @returns The next state, or `null`.
 */
export function recvHeaders(state: StreamState, endStream: boolean): StreamState | null {
  switch (state) {
    case StreamState.Idle:
      return endStream ? StreamState.HalfClosedRemote : StreamState.Open;
    case StreamState.ReservedRemote:
      return endStream ? StreamState.Closed : StreamState.HalfClosedLocal;
    case StreamState.Open:
      return endStream ? StreamState.HalfClosedRemote : StreamState.Open;
    case StreamState.HalfClosedLocal:
      return endStream ? StreamState.Closed : StreamState.HalfClosedLocal;
    default:
      return null;
  }
}

/**
 * The state after sending END_STREAM (on DATA or HEADERS).
 *
 * @param state The current state.
 * @returns The next state.
 * @throws {Error} when the sending side is already closed (a bug of ours).
 */
export function sendEndStream(state: StreamState): StreamState {
  switch (state) {
    case StreamState.Open:
      return StreamState.HalfClosedLocal;
    case StreamState.HalfClosedRemote:
      return StreamState.Closed;
    default:
      throw new Error(`cannot send END_STREAM on a stream in state ${StreamState[state]}`);
  }
}

/**
 * The state after receiving END_STREAM, or `null` when the receiving side is not open.
 *
 * @param state The current state.
 * @returns The next state, or `null`.
 */
export function recvEndStream(state: StreamState): StreamState | null {
  switch (state) {
    case StreamState.Open:
      return StreamState.HalfClosedRemote;
    case StreamState.HalfClosedLocal:
      return StreamState.Closed;
    default:
      return null;
  }
}

/**
 * The state after sending or receiving RST_STREAM: always closed.
 *
 * @param _state The current state.
 * @returns `StreamState.Closed`.
 */
export function reset(_state: StreamState): StreamState {
  return StreamState.Closed;
}

/**
 * Whether the sending side of a stream is open (DATA and trailers may be sent).
 *
 * @param state The state.
 * @returns Whether we may send.
 */
export function canSend(state: StreamState): boolean {
  return state === StreamState.Open || state === StreamState.HalfClosedRemote;
}

/**
 * Whether the receiving side of a stream is open (the peer may send DATA and trailers).
 *
 * @param state The state.
 * @returns Whether the peer may send.
 */
export function canRecv(state: StreamState): boolean {
  return state === StreamState.Open || state === StreamState.HalfClosedLocal;
}

/**
 * What receiving a frame of `frameType` on a stream in `state` means (RFC 9113 section 5.1).
 * For a closed stream, `closedByEndStream` tells whether it closed normally (END_STREAM
 * both ways: further frames are a connection error) or by a RST_STREAM from the peer (a
 * stream error).
 *
 * @param state The state.
 * @param frameType The frame type (`FrameType`).
 * @param closedByEndStream For `Closed`: whether the peer's END_STREAM closed it.
 * @returns The verdict.
 */
export function checkRecv(
  state: StreamState,
  frameType: number,
  closedByEndStream = false,
): RecvCheck {
  // PRIORITY is allowed in every state.
  if (frameType === 0x2) return RecvCheck.Ok;
  switch (state) {
    case StreamState.Idle:
      // Only HEADERS (and PRIORITY) may open a stream.
      return frameType === 0x1 ? RecvCheck.Ok : RecvCheck.ProtocolConnectionError;
    case StreamState.ReservedLocal:
      // WINDOW_UPDATE, RST_STREAM and PRIORITY only.
      return frameType === 0x8 || frameType === 0x3
        ? RecvCheck.Ok
        : RecvCheck.ProtocolConnectionError;
    case StreamState.ReservedRemote:
      // HEADERS, RST_STREAM and PRIORITY only.
      return frameType === 0x1 || frameType === 0x3
        ? RecvCheck.Ok
        : RecvCheck.ProtocolConnectionError;
    case StreamState.Open:
    case StreamState.HalfClosedLocal:
      return RecvCheck.Ok;
    case StreamState.HalfClosedRemote:
      // WINDOW_UPDATE, RST_STREAM and PRIORITY only.
      return frameType === 0x8 || frameType === 0x3
        ? RecvCheck.Ok
        : RecvCheck.StreamClosedStreamError;
    case StreamState.Closed:
      // WINDOW_UPDATE and RST_STREAM may still be in flight after our END_STREAM / RST_STREAM.
      if (frameType === 0x8 || frameType === 0x3) return RecvCheck.Ok;
      return closedByEndStream
        ? RecvCheck.StreamClosedConnectionError
        : RecvCheck.StreamClosedStreamError;
  }
}
