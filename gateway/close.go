package gateway

import "github.com/coder/websocket"

// closeReason is why a session ended; closeTable maps each to the
// WebSocket close code and text the client sees.
type closeReason int

const (
	closeClient       closeReason = iota // the client closed or went away
	closeShutdown                        // the server is draining
	closeLoginTimeout                    // no PROVISION in time
	closeLoginFailed                     // PROVISION refused
	closeKicked                          // kicked: REST, same device, another device
	closeIdle                            // no traffic for IdleTimeout
	closeSlow                            // write queue over its byte limit
	closeProtocol                        // a malformed or unexpected frame
	closeTooBig                          // a frame over MaxFrameBytes
	closeFraming                         // a transport message outside what imgate speaks (Socket.IO)
	closeWriteError                      // a write failed or timed out
	closeTokenEnded                      // the login's token was revoked or expired
)

// The names are the values of imgate_session_closes_total's reason label
// (metrics.CloseReasons).
var closeTable = map[closeReason]struct {
	code websocket.StatusCode
	text string
	name string
}{
	closeClient:       {websocket.StatusNormalClosure, "bye", "client"},
	closeShutdown:     {websocket.StatusGoingAway, "server shutting down; reconnect", "shutdown"},
	closeLoginTimeout: {4001, "no PROVISION within the login timeout", "login_timeout"},
	closeLoginFailed:  {4002, "login refused", "login_failed"},
	closeKicked:       {4003, "kicked", "kicked"},
	closeIdle:         {4004, "idle: no frame within the idle timeout", "idle"},
	closeSlow:         {4005, "slow consumer: too much unsent data", "slow"},
	closeProtocol:     {websocket.StatusInvalidFramePayloadData, "malformed or unexpected frame", "protocol"},
	closeTooBig:       {websocket.StatusMessageTooBig, "frame too large", "too_big"},
	closeFraming:      {websocket.StatusProtocolError, "unsupported transport message", "framing"},
	closeWriteError:   {websocket.StatusGoingAway, "write failed", "write_error"},
	closeTokenEnded:   {4006, "token revoked or expired: log in again", "token"},
}
