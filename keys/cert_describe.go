package keys

import (
	"fmt"
	"strings"
	"time"
)

// Describe renders the certificate as "ssh-keygen -L -f path" prints it
// (OpenSSH 9.2), line for line: type, key and CA fingerprints, key ID,
// serial, validity in local time, principals, critical options and
// extensions. path only fills the first line.
func (c *Certificate) Describe(path string) string { return c.describe(path, time.Local) }

const certIndent = "                "

func (c *Certificate) describe(path string, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n", path)
	fmt.Fprintf(&b, "        Type: %s %s certificate\n", c.Type(), certTypeName(c.CertType))
	fmt.Fprintf(&b, "        Public key: %s-CERT %s\n", ShortTypeName(c.Key), certFingerprint(c.Key))
	sigFormat := "(none)"
	if c.Signature != nil {
		sigFormat = c.Signature.Format
	}
	fmt.Fprintf(&b, "        Signing CA: %s %s (using %s)\n", ShortTypeName(c.SignatureKey), certFingerprint(c.SignatureKey), sigFormat)
	fmt.Fprintf(&b, "        Key ID: \"%s\"\n", c.KeyID)
	fmt.Fprintf(&b, "        Serial: %d\n", c.Serial)
	fmt.Fprintf(&b, "        Valid: %s\n", certValidity(c.ValidAfter, c.ValidBefore, loc))
	b.WriteString("        Principals: ")
	if len(c.ValidPrincipals) == 0 {
		b.WriteString("(none)\n")
	} else {
		for _, p := range c.ValidPrincipals {
			b.WriteString("\n" + certIndent + p)
		}
		b.WriteString("\n")
	}
	b.WriteString("        Critical Options: ")
	describeCertOptions(&b, c.CriticalOptions, true)
	b.WriteString("        Extensions: ")
	describeCertOptions(&b, c.Extensions, false)
	return b.String()
}

// certFlagExtensions are the extensions ssh-keygen knows to be flags.
var certFlagExtensions = map[string]bool{
	"permit-X11-forwarding":   true,
	"permit-agent-forwarding": true,
	"permit-port-forwarding":  true,
	"permit-pty":              true,
	"permit-user-rc":          true,
	"no-touch-required":       true,
}

func describeCertOptions(b *strings.Builder, opts CertOptions, critical bool) {
	if len(opts) == 0 {
		b.WriteString("(none)\n")
		return
	}
	b.WriteString("\n")
	for _, o := range opts {
		b.WriteString(certIndent + o.Name)
		value, isString := o.Value()
		switch {
		case !critical && certFlagExtensions[o.Name] && len(o.Data) == 0,
			critical && o.Name == "verify-required" && len(o.Data) == 0:
		case critical && (o.Name == "force-command" || o.Name == "source-address") && isString:
			b.WriteString(" " + value)
		case len(o.Data) > 0:
			fmt.Fprintf(b, " UNKNOWN OPTION: %x (len %d)", o.Data, len(o.Data))
		default:
			b.WriteString(" UNKNOWN FLAG OPTION")
		}
		b.WriteString("\n")
	}
}

// certValidity formats the validity period as sshkey_format_cert_validity
// does.
func certValidity(after, before uint64, loc *time.Location) string {
	switch {
	case after == 0 && before == CertTimeInfinity:
		return "forever"
	case after == 0:
		return "before " + certLocalTime(before, loc)
	case before == CertTimeInfinity:
		return "after " + certLocalTime(after, loc)
	}
	return "from " + certLocalTime(after, loc) + " to " + certLocalTime(before, loc)
}

// certLocalTime formats a certificate time as ssh-keygen does
// (strftime "%Y-%m-%dT%H:%M:%S" in local time, years past 9999 in full).
// Past the last second glibc's localtime can represent (the end of the
// year 2^31-1) ssh-keygen prints whatever its uninitialised struct tm
// holds; Describe prints that last second instead.
func certLocalTime(t uint64, loc *time.Location) string {
	const lastLocaltime = 67767976233532799 // 2147483647-12-31T23:59:59Z
	t = min(t, lastLocaltime)
	return time.Unix(int64(t), 0).In(loc).Format("2006-01-02T15:04:05")
}

func certFingerprint(k PublicKey) string {
	if k == nil {
		return "(none)"
	}
	return Fingerprint(k)
}
