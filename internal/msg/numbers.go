// Package msg holds one struct per SSH message, each with Marshal and
// Unmarshal over the wire package. A payload starts with its message number
// byte; Unmarshal checks that byte, resets the struct, copies what it keeps
// (so the packet buffer can be reused) and refuses trailing bytes, so every
// accepted payload has exactly one meaning.
//
// KexInit keeps its exact payload in Raw, because the exchange hash covers
// the bytes as sent (I_C, I_S), which re-marshalling need not reproduce.
package msg

import "fmt"

// Message numbers from RFC 4250 §4.1, plus the extensions SSH uses in
// practice (RFC 8308 EXT_INFO, the OpenSSH kex numbers reused by ECDH and
// hybrid methods). Numbers 30-49 are kex-method specific and 60-79 are
// userauth-method specific, so several names share a value; the aliases
// below let each protocol read the name it knows.
const (
	MsgDisconnect     = 1
	MsgIgnore         = 2
	MsgUnimplemented  = 3
	MsgDebug          = 4
	MsgServiceRequest = 5
	MsgServiceAccept  = 6
	MsgExtInfo        = 7 // RFC 8308
	MsgNewCompress    = 8 // RFC 8308 §3.2, reserved for delayed compression signalling

	MsgKexInit = 20
	MsgNewKeys = 21

	// Fixed-group Diffie-Hellman (RFC 4253 §8).
	MsgKexDHInit  = 30
	MsgKexDHReply = 31
	// Elliptic-curve DH (RFC 5656 §7.1), also curve25519 (RFC 8731) and
	// the hybrid KEM methods (mlkem768x25519-sha256).
	MsgKexECDHInit  = 30
	MsgKexECDHReply = 31
	// Diffie-Hellman group exchange (RFC 4419 §5).
	MsgKexDHGexRequestOld = 30
	MsgKexDHGexGroup      = 31
	MsgKexDHGexInit       = 32
	MsgKexDHGexReply      = 33
	MsgKexDHGexRequest    = 34

	MsgUserAuthRequest = 50
	MsgUserAuthFailure = 51
	MsgUserAuthSuccess = 52
	MsgUserAuthBanner  = 53

	// Userauth method-specific numbers (RFC 4252 §7, §8; RFC 4256 §3.2;
	// RFC 4462 §3).
	MsgUserAuthPKOK            = 60
	MsgUserAuthPasswdChangeReq = 60
	MsgUserAuthInfoRequest     = 60
	MsgUserAuthGSSAPIResponse  = 60
	MsgUserAuthInfoResponse    = 61
	MsgUserAuthGSSAPIToken     = 61

	// Connection protocol (RFC 4254).
	MsgGlobalRequest           = 80
	MsgRequestSuccess          = 81
	MsgRequestFailure          = 82
	MsgChannelOpen             = 90
	MsgChannelOpenConfirmation = 91
	MsgChannelOpenFailure      = 92
	MsgChannelWindowAdjust     = 93
	MsgChannelData             = 94
	MsgChannelExtendedData     = 95
	MsgChannelEOF              = 96
	MsgChannelClose            = 97
	MsgChannelRequest          = 98
	MsgChannelSuccess          = 99
	MsgChannelFailure          = 100
)

// Ranges of RFC 4250 §4.1 that Name reports when a number has no name.
const (
	firstKexMethodSpecific      = 30
	lastKexMethodSpecific       = 49
	firstUserAuthMethodSpecific = 60
	lastUserAuthMethodSpecific  = 79
	firstLocalExtension         = 192
)

var names = [...]string{
	MsgDisconnect:              "SSH_MSG_DISCONNECT",
	MsgIgnore:                  "SSH_MSG_IGNORE",
	MsgUnimplemented:           "SSH_MSG_UNIMPLEMENTED",
	MsgDebug:                   "SSH_MSG_DEBUG",
	MsgServiceRequest:          "SSH_MSG_SERVICE_REQUEST",
	MsgServiceAccept:           "SSH_MSG_SERVICE_ACCEPT",
	MsgExtInfo:                 "SSH_MSG_EXT_INFO",
	MsgNewCompress:             "SSH_MSG_NEWCOMPRESS",
	MsgKexInit:                 "SSH_MSG_KEXINIT",
	MsgNewKeys:                 "SSH_MSG_NEWKEYS",
	MsgKexDHInit:               "SSH_MSG_KEXDH_INIT",
	MsgKexDHReply:              "SSH_MSG_KEXDH_REPLY",
	MsgKexDHGexInit:            "SSH_MSG_KEX_DH_GEX_INIT",
	MsgKexDHGexReply:           "SSH_MSG_KEX_DH_GEX_REPLY",
	MsgKexDHGexRequest:         "SSH_MSG_KEX_DH_GEX_REQUEST",
	MsgUserAuthRequest:         "SSH_MSG_USERAUTH_REQUEST",
	MsgUserAuthFailure:         "SSH_MSG_USERAUTH_FAILURE",
	MsgUserAuthSuccess:         "SSH_MSG_USERAUTH_SUCCESS",
	MsgUserAuthBanner:          "SSH_MSG_USERAUTH_BANNER",
	MsgUserAuthPKOK:            "SSH_MSG_USERAUTH_PK_OK",
	MsgUserAuthInfoResponse:    "SSH_MSG_USERAUTH_INFO_RESPONSE",
	MsgGlobalRequest:           "SSH_MSG_GLOBAL_REQUEST",
	MsgRequestSuccess:          "SSH_MSG_REQUEST_SUCCESS",
	MsgRequestFailure:          "SSH_MSG_REQUEST_FAILURE",
	MsgChannelOpen:             "SSH_MSG_CHANNEL_OPEN",
	MsgChannelOpenConfirmation: "SSH_MSG_CHANNEL_OPEN_CONFIRMATION",
	MsgChannelOpenFailure:      "SSH_MSG_CHANNEL_OPEN_FAILURE",
	MsgChannelWindowAdjust:     "SSH_MSG_CHANNEL_WINDOW_ADJUST",
	MsgChannelData:             "SSH_MSG_CHANNEL_DATA",
	MsgChannelExtendedData:     "SSH_MSG_CHANNEL_EXTENDED_DATA",
	MsgChannelEOF:              "SSH_MSG_CHANNEL_EOF",
	MsgChannelClose:            "SSH_MSG_CHANNEL_CLOSE",
	MsgChannelRequest:          "SSH_MSG_CHANNEL_REQUEST",
	MsgChannelSuccess:          "SSH_MSG_CHANNEL_SUCCESS",
	MsgChannelFailure:          "SSH_MSG_CHANNEL_FAILURE",
}

// Name returns the RFC name of message number n for logs and errors, such
// as "SSH_MSG_KEXINIT". Method-specific numbers have no single name: 30-34
// are named after the fixed-group DH and group-exchange messages, 60 and 61
// after public-key and keyboard-interactive auth, and other numbers in those
// ranges or unassigned are given as "SSH_MSG_<range>(n)", so a log line
// still shows the value.
func Name(n byte) string {
	if int(n) < len(names) && names[n] != "" {
		return names[n]
	}
	switch {
	case n >= firstKexMethodSpecific && n <= lastKexMethodSpecific:
		return fmt.Sprintf("SSH_MSG_KEX_METHOD_SPECIFIC(%d)", n)
	case n >= firstUserAuthMethodSpecific && n <= lastUserAuthMethodSpecific:
		return fmt.Sprintf("SSH_MSG_USERAUTH_METHOD_SPECIFIC(%d)", n)
	case n >= firstLocalExtension:
		return fmt.Sprintf("SSH_MSG_LOCAL_EXTENSION(%d)", n)
	}
	return fmt.Sprintf("SSH_MSG_UNKNOWN(%d)", n)
}

// DisconnectReason is the reason code of SSH_MSG_DISCONNECT (RFC 4250
// §4.2.2). Peers may send values outside the list; String shows them as
// numbers.
type DisconnectReason uint32

// Disconnect reason codes, RFC 4250 §4.2.2.
const (
	DisconnectHostNotAllowedToConnect     DisconnectReason = 1
	DisconnectProtocolError               DisconnectReason = 2
	DisconnectKeyExchangeFailed           DisconnectReason = 3
	DisconnectReserved                    DisconnectReason = 4
	DisconnectMACError                    DisconnectReason = 5
	DisconnectCompressionError            DisconnectReason = 6
	DisconnectServiceNotAvailable         DisconnectReason = 7
	DisconnectProtocolVersionNotSupported DisconnectReason = 8
	DisconnectHostKeyNotVerifiable        DisconnectReason = 9
	DisconnectConnectionLost              DisconnectReason = 10
	DisconnectByApplication               DisconnectReason = 11
	DisconnectTooManyConnections          DisconnectReason = 12
	DisconnectAuthCancelledByUser         DisconnectReason = 13
	DisconnectNoMoreAuthMethodsAvailable  DisconnectReason = 14
	DisconnectIllegalUserName             DisconnectReason = 15
)

var reasonNames = [...]string{
	DisconnectHostNotAllowedToConnect:     "SSH_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT",
	DisconnectProtocolError:               "SSH_DISCONNECT_PROTOCOL_ERROR",
	DisconnectKeyExchangeFailed:           "SSH_DISCONNECT_KEY_EXCHANGE_FAILED",
	DisconnectReserved:                    "SSH_DISCONNECT_RESERVED",
	DisconnectMACError:                    "SSH_DISCONNECT_MAC_ERROR",
	DisconnectCompressionError:            "SSH_DISCONNECT_COMPRESSION_ERROR",
	DisconnectServiceNotAvailable:         "SSH_DISCONNECT_SERVICE_NOT_AVAILABLE",
	DisconnectProtocolVersionNotSupported: "SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED",
	DisconnectHostKeyNotVerifiable:        "SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE",
	DisconnectConnectionLost:              "SSH_DISCONNECT_CONNECTION_LOST",
	DisconnectByApplication:               "SSH_DISCONNECT_BY_APPLICATION",
	DisconnectTooManyConnections:          "SSH_DISCONNECT_TOO_MANY_CONNECTIONS",
	DisconnectAuthCancelledByUser:         "SSH_DISCONNECT_AUTH_CANCELLED_BY_USER",
	DisconnectNoMoreAuthMethodsAvailable:  "SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE",
	DisconnectIllegalUserName:             "SSH_DISCONNECT_ILLEGAL_USER_NAME",
}

// String returns the RFC name, such as "SSH_DISCONNECT_BY_APPLICATION", or
// "SSH_DISCONNECT_UNKNOWN(n)" for a code outside RFC 4250.
func (r DisconnectReason) String() string {
	if uint64(r) < uint64(len(reasonNames)) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return fmt.Sprintf("SSH_DISCONNECT_UNKNOWN(%d)", uint32(r))
}
