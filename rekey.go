package paramigo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/paramigo/paramigo/internal/cipher"
	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/internal/packet"
	"github.com/paramigo/paramigo/keys"
)

// kexRun is one key exchange in progress, owned by the reader goroutine.
type kexRun struct {
	ours, theirs *msg.KexInit
	neg          *kex.Negotiated
	client       *kex.Client
	server       *kex.Server
	ignoreGuess  bool // the peer's guessed first packet is to be dropped
	first        bool
	strictFirst  bool // strict kex rules apply (first exchange, both sides agreed)
	pendingIn    cipher.Opener
	gotNewKeys   bool
	sentNewKeys  bool
}

// kexInit builds our KEXINIT.
func (t *Transport) kexInit(first bool) *msg.KexInit {
	m := &msg.KexInit{
		KexAlgos:      slices.Clone(t.algos.Kex),
		HostKeyAlgos:  t.hostKeyAlgos(),
		CiphersCS:     t.algos.Ciphers,
		CiphersSC:     t.algos.Ciphers,
		MACsCS:        t.algos.MACs,
		MACsSC:        t.algos.MACs,
		CompressionCS: t.algos.Compression,
		CompressionSC: t.algos.Compression,
	}
	rand.Read(m.Cookie[:])
	if first {
		m.KexAlgos = kex.WithMarkers(m.KexAlgos, t.isClient, true)
	}
	return m
}

// hostKeyAlgos lists the host key algorithms we offer: the client's
// preference list, or what the server's keys can sign with.
func (t *Transport) hostKeyAlgos() []string {
	if t.isClient {
		return t.algos.HostKeys
	}
	var out []string
	allowed := t.cfg.Algorithms.HostKeys
	for _, s := range t.server.HostKeys {
		for _, a := range keys.SignatureAlgorithms(s.PublicKey().Type()) {
			if len(allowed) == 0 && !slices.Contains(secureHostKeyAlgos, a) {
				continue
			}
			if len(allowed) > 0 && !slices.Contains(allowed, a) {
				continue
			}
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// startFirstKex sends our first KEXINIT, unless the reader, answering the
// peer's, already did (and perhaps finished the whole exchange): a
// second one would start a re-key nobody asked for.
func (t *Transport) startFirstKex() error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.kexSent || t.kexCount > 0 {
		return nil
	}
	return t.sendKexInitLocked()
}

// startKex sends our KEXINIT unless one is already out.
func (t *Transport) startKex() error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.sendKexInitLocked()
}

func (t *Transport) sendKexInitLocked() error {
	if t.kexSent || t.err != nil {
		return nil
	}
	first := t.sessionID == nil && t.kexCount == 0
	m := t.kexInit(first)
	m.Raw = m.Marshal()
	if err := t.out.appendPacket(t.w, m.Raw); err != nil {
		return err
	}
	t.ourKexInit = m
	t.kexSent = true
	return nil
}

// NegotiatedAlgorithms is what the last key exchange chose.
type NegotiatedAlgorithms struct {
	Kex                     string
	HostKey                 string
	CipherClientServer      string
	CipherServerClient      string
	MACClientServer         string // empty with an AEAD cipher
	MACServerClient         string
	CompressionClientServer string
	CompressionServerClient string
	// StrictKex reports OpenSSH's strict key exchange (the Terrapin
	// countermeasure) in force for this connection.
	StrictKex bool
}

// Negotiated returns the algorithms of the current keys (paramiko's
// get_security_options shows the offer; this shows the outcome).
func (t *Transport) Negotiated() NegotiatedAlgorithms {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.negotiated
}

// KexCount returns how many key exchanges have completed.
func (t *Transport) KexCount() int {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.kexCount
}

// rekeyLimits returns the configured byte limit and interval.
func (t *Transport) rekeyLimits() (int64, time.Duration) {
	limit := t.cfg.RekeyBytes
	if limit == 0 {
		limit = DefaultRekeyBytes
	}
	interval := t.cfg.RekeyInterval
	if interval == 0 {
		interval = DefaultRekeyInterval
	}
	return limit, interval
}

// maybeRekeyLocked starts a re-key when the outgoing direction has carried
// enough bytes or packets, or the keys are old enough. Called with wmu
// held; the incoming direction is checked by the reader (readRekeyDue).
func (t *Transport) maybeRekeyLocked() {
	if t.kexSent || t.kexCount == 0 {
		return
	}
	limit, interval := t.rekeyLimits()
	if (limit > 0 && t.w.Bytes >= uint64(limit)) || t.w.Packets >= 1<<31 ||
		(interval > 0 && time.Since(t.lastKex) >= interval) {
		t.log.Debug("ssh: re-keying", "bytes_out", t.w.Bytes)
		t.sendKexInitLocked()
	}
}

// readRekeyDue is the reader goroutine's half of maybeRekeyLocked.
func (t *Transport) readRekeyDue() bool {
	limit, _ := t.rekeyLimits()
	return t.kx == nil && ((limit > 0 && t.r.Bytes >= uint64(limit)) || t.r.Packets >= 1<<31)
}

// Rekey runs a new key exchange now and waits for it to finish
// (paramiko's renegotiate_keys).
func (t *Transport) Rekey(ctx context.Context) error {
	t.wmu.Lock()
	wait := t.kexWait
	if err := t.sendKexInitLocked(); err != nil {
		t.wmu.Unlock()
		return err
	}
	t.wmu.Unlock()
	select {
	case <-wait:
		return nil
	case <-t.done:
		return t.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handleKex runs one key-exchange message on the reader goroutine.
func (t *Transport) handleKex(p []byte) error {
	switch p[0] {
	case msg.MsgKexInit:
		return t.handleKexInit(p)
	case msg.MsgNewKeys:
		return t.handleNewKeys(p)
	}
	k := t.kx
	if k == nil || k.neg == nil {
		return &UnexpectedMessageError{Want: "SSH_MSG_KEXINIT", Got: p[0]}
	}
	if k.ignoreGuess {
		k.ignoreGuess = false
		return nil
	}
	if k.sentNewKeys {
		return &UnexpectedMessageError{Want: "SSH_MSG_NEWKEYS", Got: p[0]}
	}
	var (
		out []byte
		res *kex.Result
		err error
	)
	// The exchange's arithmetic and signature grow a goroutine's stack
	// to tens of KiB, which the reader goroutine would keep for as long as
	// the connection idles: it runs on a goroutine of its own, whose
	// stack goes when it ends.
	onOwnStack(func() {
		if k.client != nil {
			out, res, err = k.client.Step(p)
		} else {
			out, res, err = k.server.Step(p)
		}
	})
	if err != nil {
		var ue *kex.UnexpectedMessageError
		if errors.As(err, &ue) {
			return &UnexpectedMessageError{Want: kexWant(ue), Got: ue.Got, Err: err}
		}
		return err
	}
	if out != nil {
		if err := t.writeKexPacket(out); err != nil {
			return err
		}
	}
	if res != nil {
		return t.finishKex(res)
	}
	return nil
}

func (t *Transport) handleKexInit(p []byte) error {
	if t.kx != nil && t.kx.neg != nil {
		return &UnexpectedMessageError{Want: "key exchange message", Got: p[0]}
	}
	theirs := new(msg.KexInit)
	if err := theirs.Unmarshal(p); err != nil {
		return err
	}
	theirs.Raw = append([]byte(nil), p...)
	t.wmu.Lock()
	byPeer := !t.kexSent && t.sessionID != nil
	t.wmu.Unlock()
	if byPeer {
		t.log.Debug("ssh: re-key started by the peer", "bytes_in", t.r.Bytes)
	}
	if err := t.startKex(); err != nil {
		return err
	}
	t.wmu.Lock()
	ours := t.ourKexInit
	first := t.sessionID == nil
	failed := t.err
	t.wmu.Unlock()
	if ours == nil {
		// Ours was not sent: the connection failed meanwhile.
		if failed == nil {
			failed = net.ErrClosed
		}
		return failed
	}

	if t.log.Enabled(context.Background(), LevelDebug2) {
		for _, p := range []struct {
			side string
			m    *msg.KexInit
		}{{"ours", ours}, {"theirs", theirs}} {
			t.log.Log(context.Background(), LevelDebug2, "ssh: KEXINIT proposal", "side", p.side,
				"kex", p.m.KexAlgos, "hostkey", p.m.HostKeyAlgos, "cipher_cs", p.m.CiphersCS, "cipher_sc", p.m.CiphersSC,
				"mac_cs", p.m.MACsCS, "mac_sc", p.m.MACsSC, "compression_cs", p.m.CompressionCS, "compression_sc", p.m.CompressionSC,
				"first_kex_follows", p.m.FirstKexFollows)
		}
	}
	k := &kexRun{ours: ours, theirs: theirs, first: first}
	t.kx = k
	cInit, sInit := ours, theirs
	if !t.isClient {
		cInit, sInit = theirs, ours
	}
	neg, err := kex.Negotiate(cInit, sInit)
	if err != nil {
		var ne *kex.NegotiationError
		if errors.As(err, &ne) {
			ae := &AlgorithmNegotiationError{What: ne.What, Ours: ne.Client, Theirs: ne.Server}
			if !t.isClient {
				ae.Ours, ae.Theirs = ne.Server, ne.Client
			}
			return t.protocolError(DisconnectKeyExchangeFailed, ae)
		}
		return err
	}
	k.neg = neg
	t.wmu.Lock()
	t.negotiated = NegotiatedAlgorithms{
		Kex: neg.Kex, HostKey: neg.HostKey,
		CipherClientServer: neg.CipherCS, CipherServerClient: neg.CipherSC,
		MACClientServer: neg.MACCS, MACServerClient: neg.MACSC,
		CompressionClientServer: neg.CompressionCS, CompressionServerClient: neg.CompressionSC,
		StrictKex: t.strictKex || (first && neg.StrictKex),
	}
	t.wmu.Unlock()
	if first {
		t.strictKex = neg.StrictKex
		if neg.StrictKex {
			// The peer's KEXINIT must have been its very first packet.
			if t.r.Seq() != 1 {
				return t.protocolError(DisconnectProtocolError, strictViolation{errKexInitNotFirst})
			}
			k.strictFirst = true
		}
	}
	if theirs.FirstKexFollows && neg.WrongGuess {
		k.ignoreGuess = true
	}
	t.log.Debug("ssh: negotiated",
		"kex", neg.Kex, "hostkey", neg.HostKey,
		"cipher_cs", neg.CipherCS, "cipher_sc", neg.CipherSC,
		"mac_cs", neg.MACCS, "mac_sc", neg.MACSC,
		"compression_cs", neg.CompressionCS, "compression_sc", neg.CompressionSC,
		"strict", neg.StrictKex)
	m := kex.Magics{
		ClientVersion: []byte(t.clientVersion()),
		ServerVersion: []byte(t.serverVersion()),
		ClientKexInit: cInit.Raw,
		ServerKexInit: sInit.Raw,
	}
	if t.isClient {
		k.client, err = kex.NewClient(neg.Kex, t.rand, m, neg.HostKey)
		if err != nil {
			return err
		}
		out, err := k.client.Start()
		if err != nil {
			return err
		}
		return t.writeKexPacket(out)
	}
	signer := t.hostKeyFor(neg.HostKey)
	if signer == nil {
		return fmt.Errorf("paramigo: no host key for negotiated algorithm %s", neg.HostKey)
	}
	k.server, err = kex.NewServer(neg.Kex, t.rand, m, signer, neg.HostKey, t.server.Moduli.kex())
	return err
}

func (t *Transport) clientVersion() string {
	if t.isClient {
		return t.localVersion
	}
	return t.remoteVersion
}

func (t *Transport) serverVersion() string {
	if t.isClient {
		return t.remoteVersion
	}
	return t.localVersion
}

// hostKeyFor finds the server's key that signs with algo.
func (t *Transport) hostKeyFor(algo string) keys.Signer {
	for _, s := range t.server.HostKeys {
		if slices.Contains(keys.SignatureAlgorithms(s.PublicKey().Type()), algo) {
			return s
		}
	}
	return nil
}

// finishKex verifies the host key (client), derives keys, sends NEWKEYS
// and switches the outgoing direction.
func (t *Transport) finishKex(res *kex.Result) error {
	k := t.kx
	if t.isClient {
		if err := t.client.HostKeyCallback(t.hostport, res.HostKey); err != nil {
			de := fmt.Errorf("%w: %w", ErrHostKeyRejected, err)
			return t.protocolError(DisconnectHostKeyNotVerifiable, de)
		}
	}
	sessionID := t.sessionID
	if sessionID == nil {
		sessionID = res.H
	}
	derive := func(letter byte, n int) []byte {
		return kex.DeriveKey(res.Hash, res.K, res.H, sessionID, letter, n)
	}
	inCipher, inMAC, outCipher, outMAC := k.neg.CipherSC, k.neg.MACSC, k.neg.CipherCS, k.neg.MACCS
	inL, outL := [3]byte{'B', 'D', 'F'}, [3]byte{'A', 'C', 'E'}
	if !t.isClient {
		inCipher, inMAC, outCipher, outMAC = outCipher, outMAC, inCipher, inMAC
		inL, outL = outL, inL
	}
	sealer, err := newDirection(derive, outCipher, outMAC, outL, func(c, m string, key, iv, mk []byte) (any, error) {
		return cipher.NewSealer(c, m, key, iv, mk, t.rand)
	})
	if err != nil {
		return err
	}
	opener, err := newDirection(derive, inCipher, inMAC, inL, func(c, m string, key, iv, mk []byte) (any, error) {
		return cipher.NewOpener(c, m, key, iv, mk)
	})
	if err != nil {
		return err
	}
	k.pendingIn = opener.(cipher.Opener)

	t.wmu.Lock()
	if t.sessionID == nil {
		t.sessionID = res.H
	}
	err = t.out.appendPacket(t.w, (&msg.NewKeys{}).Marshal())
	if err == nil {
		t.w.SetSealer(sealer.(cipher.Sealer), t.strictKex)
		t.newKeysCompressionLocked(outCompression(t, k.neg))
		k.sentNewKeys = true
		if k.first && !t.isClient && k.neg.ClientExtInfo {
			err = t.out.appendPacket(t.w, t.serverExtInfo())
		}
	}
	t.wmu.Unlock()
	if err != nil {
		return err
	}
	return t.kexMaybeDone()
}

// newDirection derives one direction's keys and builds its cipher.
func newDirection(derive func(byte, int) []byte, cipherName, macName string, letters [3]byte,
	build func(c, m string, key, iv, mk []byte) (any, error)) (any, error) {
	cs, err := cipher.CipherInfo(cipherName)
	if err != nil {
		return nil, err
	}
	var macKey []byte
	if !cs.AEAD {
		ms, err := cipher.MACInfo(macName)
		if err != nil {
			return nil, err
		}
		macKey = derive(letters[2], ms.KeyLen)
	} else {
		macName = ""
	}
	return build(cipherName, macName, derive(letters[1], cs.KeyLen), derive(letters[0], cs.IVLen), macKey)
}

func (t *Transport) handleNewKeys(p []byte) error {
	k := t.kx
	if k == nil || k.pendingIn == nil {
		return &UnexpectedMessageError{Want: "key exchange reply", Got: p[0]}
	}
	if err := (&msg.NewKeys{}).Unmarshal(p); err != nil {
		return err
	}
	t.r.SetOpener(k.pendingIn, t.strictKex)
	t.newKeysDecompression(inCompression(t, k.neg))
	k.gotNewKeys = true
	return t.kexMaybeDone()
}

// kexMaybeDone completes the exchange once NEWKEYS went both ways.
func (t *Transport) kexMaybeDone() error {
	k := t.kx
	if !k.sentNewKeys || !k.gotNewKeys {
		return nil
	}
	t.kx = nil
	t.wmu.Lock()
	t.kexSent = false
	t.ourKexInit = nil // the next exchange sends a new one
	t.lastKex = time.Now()
	t.kexCount++
	pending := t.pendingOut
	t.pendingOut = nil
	var err error
	for _, p := range pending {
		if err = t.out.appendPacket(t.w, p); err != nil {
			break
		}
	}
	close(t.kexWait)
	t.kexWait = make(chan struct{})
	t.wcond.Broadcast()
	t.wmu.Unlock()
	if k.first {
		close(t.firstKex)
	}
	return err
}

// serverExtInfo is the EXT_INFO a server sends after its first NEWKEYS
// (RFC 8308): the signature algorithms it accepts for public key auth.
func (t *Transport) serverExtInfo() []byte {
	var algs []string
	for _, a := range t.algos.PublicKeys {
		if !keys.IsCertAlgorithm(a) {
			algs = append(algs, a)
		}
	}
	m := &msg.ExtInfo{Extensions: []msg.Extension{{Name: "server-sig-algs", Value: []byte(strings.Join(algs, ","))}}}
	return m.Marshal()
}

func (t *Transport) handleExtInfo(p []byte) error {
	var m msg.ExtInfo
	if err := m.Unmarshal(p); err != nil {
		return t.protocolError(DisconnectProtocolError, err)
	}
	for _, e := range m.Extensions {
		if e.Name == "server-sig-algs" && t.isClient {
			t.wmu.Lock()
			t.peerSigAlgs = splitNames(string(e.Value))
			t.extInfoSeen = true
			t.wmu.Unlock()
		}
	}
	return nil
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// outCompression and inCompression pick this side's directions.
func outCompression(t *Transport, n *kex.Negotiated) string {
	if t.isClient {
		return n.CompressionCS
	}
	return n.CompressionSC
}

func inCompression(t *Transport, n *kex.Negotiated) string {
	if t.isClient {
		return n.CompressionSC
	}
	return n.CompressionCS
}

// compressionNow says whether algo compresses at this point: zlib from its
// NEWKEYS on, zlib@openssh.com once authentication has succeeded. Called
// with wmu held.
func (t *Transport) compressionNow(algo string) bool {
	switch algo {
	case CompressionZlib:
		return true
	case CompressionZlibDelay:
		return t.compressAuthDone
	}
	return false
}

// newKeysCompressionLocked starts the outgoing compression of a new key
// set, right after our NEWKEYS: every key exchange ends the old zlib
// stream and starts a fresh one (RFC 4253 §6.2: "The compression context
// is initialized after each key exchange"; OpenSSH and AsyncSSH do so), or
// none if the new algorithm does not compress (yet). Called with wmu held.
func (t *Transport) newKeysCompressionLocked(algo string) {
	t.compressingOut = t.compressionNow(algo)
	if t.compressingOut {
		t.w.SetCompressor(packet.NewZlibCompressor(6))
	} else {
		t.w.SetCompressor(nil)
	}
}

// newKeysDecompression is the same for incoming packets, right after the
// peer's NEWKEYS is read (on the reader goroutine, so the packet that
// follows is the first of the new stream).
func (t *Transport) newKeysDecompression(algo string) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.decompressingIn = t.compressionNow(algo)
	if t.decompressingIn {
		t.r.ArmDecompressor(packet.NewZlibDecompressor())
	} else {
		t.r.ArmDecompressor(nil)
	}
}

// authCompression starts zlib@openssh.com once authentication succeeds:
// the client when USERAUTH_SUCCESS arrives, the server right after
// sending it. The streams then last until the next key exchange.
func (t *Transport) authCompression() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.authCompressionLocked()
}

func (t *Transport) authCompressionLocked() {
	t.authDecompressionLocked()
	_, out := t.authAlgos()
	if !t.compressingOut && out == CompressionZlibDelay {
		t.compressingOut = true
		t.w.SetCompressor(packet.NewZlibCompressor(6))
	}
}

// authDecompressionLocked is authCompressionLocked's incoming half alone;
// it marks the authentication point for both halves.
func (t *Transport) authDecompressionLocked() {
	t.compressAuthDone = true
	in, _ := t.authAlgos()
	if !t.decompressingIn && in == CompressionZlibDelay {
		t.decompressingIn = true
		t.r.ArmDecompressor(packet.NewZlibDecompressor())
	}
}

// authAlgos returns the compression negotiated for what we read and what
// we write.
func (t *Transport) authAlgos() (in, out string) {
	n := t.negotiated
	in, out = n.CompressionServerClient, n.CompressionClientServer
	if !t.isClient {
		in, out = out, in
	}
	return in, out
}

// kexWant names the messages a key exchange method waited for.
func kexWant(ue *kex.UnexpectedMessageError) string {
	var names []string
	for _, w := range ue.Want {
		names = append(names, msg.Name(w))
	}
	return ue.Method + " " + strings.Join(names, " or ")
}

// onOwnStack runs f on a new goroutine and waits for it: for work whose
// deep stack the calling goroutine, long-lived and mostly waiting, should
// not keep.
func onOwnStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}
