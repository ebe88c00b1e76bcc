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
)

var closeTable = map[closeReason]struct {
	code websocket.StatusCode
	text string
}{
	closeClient:       {websocket.StatusNormalClosure, "bye"},
	closeShutdown:     {websocket.StatusGoingAway, "server shutting down; reconnect"},
	closeLoginTimeout: {4001, "no PROVISION within the login timeout"},
	closeLoginFailed:  {4002, "login refused"},
	closeKicked:       {4003, "kicked"},
	closeIdle:         {4004, "idle: no frame within the idle timeout"},
	closeSlow:         {4005, "slow consumer: too much unsent data"},
	closeProtocol:     {websocket.StatusInvalidFramePayloadData, "malformed or unexpected frame"},
	closeTooBig:       {websocket.StatusMessageTooBig, "frame too large"},
	closeFraming:      {websocket.StatusProtocolError, "unsupported transport message"},
	closeWriteError:   {websocket.StatusGoingAway, "write failed"},
}
