package sftp

import (
	"fmt"
	"strconv"
	"time"
)

// LongName formats a directory entry as ls -l does, the long name SFTP
// v3 puts beside each name of READDIR (clients without
// users-groups-by-id@openssh.com print it as is), in sftp-server's
// layout: mode, links, owner, group, size, date and name. Owner and group
// are names when namer knows them, numbers otherwise; a date less than
// half a year before now shows the time, an older one the year.
func LongName(name string, a *Attributes, links uint64, namer IDNamer, now time.Time) string {
	user, group := strconv.FormatUint(uint64(a.UID), 10), strconv.FormatUint(uint64(a.GID), 10)
	if namer != nil {
		if n := namer.UserName(a.UID); n != "" {
			user = n
		}
		if n := namer.GroupName(a.GID); n != "" {
			group = n
		}
	}
	mt := a.ModTime()
	layout := "Jan _2 15:04"
	if now.Sub(mt) >= 365*24*time.Hour/2 {
		layout = "Jan _2  2006"
	}
	// Two spaces after the mode: ls leaves a column for an ACL mark.
	return fmt.Sprintf("%s  %3d %-8s %-8s %8d %s %s", modeString(a.Permissions), links, user, group,
		a.Size, mt.Format(layout), name)
}

// modeString is ls's ten-character mode column for POSIX mode bits.
func modeString(p uint32) string {
	var b [10]byte
	switch p & modeTypeMask {
	case modeDir:
		b[0] = 'd'
	case modeSymlink:
		b[0] = 'l'
	case modeFIFO:
		b[0] = 'p'
	case modeSocket:
		b[0] = 's'
	case modeChar:
		b[0] = 'c'
	case modeBlock:
		b[0] = 'b'
	case modeRegular:
		b[0] = '-'
	default:
		b[0] = '?'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if p&(1<<(8-i)) != 0 {
			b[i+1] = rwx[i]
		} else {
			b[i+1] = '-'
		}
	}
	special := func(i int, bit uint32, set, unset byte) {
		if p&bit == 0 {
			return
		}
		if b[i] == '-' {
			b[i] = unset
		} else {
			b[i] = set
		}
	}
	special(3, modeSetuid, 's', 'S')
	special(6, modeSetgid, 's', 'S')
	special(9, modeSticky, 't', 'T')
	return string(b[:])
}

// ModeString is ls's ten-character mode column for POSIX mode bits, as
// LongName shows it and sftp's ls -l prints it beside its own columns.
func ModeString(p uint32) string { return modeString(p) }
