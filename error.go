package imgate

import (
	"errors"
	"fmt"
)

// MaxIM's business codes. REST answers carry them in the envelope's "code"
// with HTTP 200; CodeOK is the only success code.
const (
	CodeOK = 200

	CodeUserNotFound        = 10000
	CodeBadCaptcha          = 10001
	CodeInvalidParameter    = 10002
	CodeMissingToken        = 10003
	CodeUserExists          = 10004
	CodeAlreadyFriend       = 10005
	CodeInBlacklist         = 10006
	CodeApplicationNotFound = 10007
	CodeInvalidToken        = 10008
	CodeOSS                 = 10009
	CodeForbidden           = 10010
	CodeAlreadyBound        = 10011
	CodeApplicationDeclined = 10012
	// CodeTooManyAttempts is the web SDK's code for too many failed
	// attempts: a password check refused unchecked while the user or the
	// client's address is in back-off after failures, and a send over a
	// user's or an app's rate.
	CodeTooManyAttempts = 10028
	// CodeTokenEnded answers a REST call with a user token that expired or
	// was revoked: MaxIM's web SDK logs in again on it. (An unknown,
	// forged or malformed token, and a revoked admin token, is
	// CodeInvalidToken.)
	CodeTokenEnded = 402
	// CodeMobileTaken is the web SDK's code for a mobile number bound to
	// another account; MaxIM's server table has none of its own for it.
	CodeMobileTaken = 11012

	CodeStore                = 20000
	CodeGroupNotFound        = 20001
	CodeNotGroupMember       = 20002
	CodeIllegalPushMode      = 20003
	CodeOwnerCannotLeave     = 20004
	CodeTransferNotMember    = 20005
	CodeGroupRepairing       = 20006
	CodeAppGroupLimit        = 20007
	CodeOwnedGroupLimit      = 20008
	CodeJoinedGroupLimit     = 20009
	CodeGroupFull            = 20010
	CodeNeedMember           = 20011
	CodeNeedAdmin            = 20012
	CodeNeedOwner            = 20013
	CodeApplyHandled         = 20014
	CodeInviteHandled        = 20015
	CodeKickLimit            = 20016
	CodeAlreadyMember        = 20017
	CodeInGroupBlacklist     = 20018
	CodeAnnouncementNotFound = 20020
	CodeAnnouncementDisabled = 20021
	CodeFileNotFound         = 20022
	CodeFileForbidden        = 20023
	CodeQRCodeInvalid        = 20024
	CodeQRCodeExpired        = 20025

	CodeUnknownApp = 40000

	// CodeBusy is imgate's own, for work refused at once because its
	// bounded pool is full (password checks): retry in a moment. MaxIM's
	// table has none; like MaxIM's 402 it borrows the HTTP status.
	CodeBusy = 429
	// CodeDNSInvalidApp answers discovery (/v2/app_dns) of a missing or
	// unknown app_id: the code MaxIM's web demo shows as "DNS: invalid
	// AppID". Other paths answer CodeUnknownApp.
	CodeDNSInvalidApp = 99998
)

// Error is a business error with a MaxIM code. Anything that is not an
// *Error is an internal failure and surfaces as CodeStore.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("imgate: code %d: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the MaxIM code of err: CodeOK for nil, the code of the
// first *Error in its chain, and CodeStore for anything else.
func ErrorCode(err error) int {
	if err == nil {
		return CodeOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeStore
}

// ErrorMessage returns the client-facing message of err; internal errors
// get a generic text so that no driver detail leaks to clients.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if err == nil {
		return ""
	}
	return "server database exception"
}
