package kex_test

// Interop with OpenSSH: our client machine against `sshd -i` (inetd mode,
// talking over pipes), and our server machine against `ssh` on a 127.0.0.1
// listener. Before the first NEWKEYS packets are plaintext, so a few lines
// of framing suffice. Agreement is proven by the peer: sshd's signature
// must verify over the H we compute, and ssh only sends NEWKEYS after our
// signature verified over the H it computes.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paramigo/paramigo/internal/kex"
	"github.com/paramigo/paramigo/internal/msg"
	"github.com/paramigo/paramigo/keys"
)

const (
	sshdPath   = "/usr/sbin/sshd"
	sshPath    = "/usr/bin/ssh"
	keygenPath = "/usr/bin/ssh-keygen"
)

func requirePeer(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			why := "OpenSSH peer missing: " + p
			if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
				t.Fatal(why)
			}
			t.Skip(why)
		}
	}
}

// writePacket frames payload as an unencrypted binary packet (RFC 4253 §6).
func writePacket(w io.Writer, payload []byte) error {
	pad := 8 - (5+len(payload))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	b = append(b, byte(pad))
	b = append(b, payload...)
	b = append(b, make([]byte, pad)...)
	_, err := w.Write(b)
	return err
}

func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 5 || n > 35000 {
		return nil, fmt.Errorf("packet length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	pad := int(body[0])
	if pad+1 > len(body) {
		return nil, errors.New("padding longer than packet")
	}
	return body[1 : len(body)-pad], nil
}

// readVersion reads lines until the SSH version line and returns it
// without CR LF.
func readVersion(r *bufio.Reader) ([]byte, error) {
	for range 20 {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(line, "SSH-") {
			return []byte(strings.TrimRight(line, "\r\n")), nil
		}
	}
	return nil, errors.New("no version line")
}

func ourKexInit(method, hostKeyAlgo string, isClient bool) *msg.KexInit {
	k := &msg.KexInit{
		KexAlgos:      kex.WithMarkers([]string{method}, isClient, true),
		HostKeyAlgos:  []string{hostKeyAlgo},
		CiphersCS:     []string{"aes128-ctr"},
		CiphersSC:     []string{"aes128-ctr"},
		MACsCS:        []string{"hmac-sha2-256"},
		MACsSC:        []string{"hmac-sha2-256"},
		CompressionCS: []string{"none"},
		CompressionSC: []string{"none"},
	}
	copy(k.Cookie[:], "paramigo-cookie!")
	k.Raw = k.Marshal()
	return k
}

// hostKeyFiles makes ed25519, ecdsa and rsa host keys plus an ed25519
// host certificate with ssh-keygen and returns the key paths by type.
func hostKeyFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for typ, args := range map[string][]string{
		keys.KeyTypeEd25519:  {"-t", "ed25519"},
		keys.KeyTypeECDSA256: {"-t", "ecdsa", "-b", "256"},
		keys.KeyTypeRSA:      {"-t", "rsa", "-b", "2048"},
		"ca":                 {"-t", "ed25519"},
	} {
		path := filepath.Join(dir, "hk_"+strings.ReplaceAll(typ, "-", "_"))
		out, err := exec.Command(keygenPath, append(args, "-q", "-N", "", "-C", "", "-f", path)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
		files[typ] = path
	}
	ed := files[keys.KeyTypeEd25519]
	out, err := exec.Command(keygenPath, "-q", "-s", files["ca"], "-I", "host", "-h", "-n", "127.0.0.1", ed+".pub").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	files["ssh-ed25519-cert-v01@openssh.com"] = ed + "-cert.pub"
	return files
}

// pubBlob reads the key blob of an OpenSSH .pub (or -cert.pub) file.
func pubBlob(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

func TestInteropClientAgainstSSHD(t *testing.T) {
	requirePeer(t, sshdPath, keygenPath)
	dir := t.TempDir()
	files := hostKeyFiles(t, dir)
	type tc struct{ method, algo string }
	var cases []tc
	for _, m := range []string{
		kex.KexCurve25519SHA256, kex.KexCurve25519SHA256LibSSH, kex.KexECDHP256, kex.KexECDHP384, kex.KexECDHP521,
		kex.KexDHGexSHA256, kex.KexDHGroup14SHA256, kex.KexDHGroup16SHA512, kex.KexDHGroup18SHA512,
		kex.InsecureKexDHGroup14SHA1, kex.InsecureKexDHGroup1SHA1, kex.InsecureKexDHGexSHA1,
	} {
		cases = append(cases, tc{m, keys.KeyTypeEd25519})
	}
	for _, a := range []string{keys.KeyTypeECDSA256, keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA512, keys.SigAlgoRSASHA1, "ssh-ed25519-cert-v01@openssh.com"} {
		cases = append(cases, tc{kex.KexCurve25519SHA256, a})
	}
	for _, c := range cases {
		t.Run("kex="+c.method+"/hostkey="+c.algo, func(t *testing.T) {
			keyType := keys.KeyTypeForAlgorithm(c.algo)
			keyFile := files[strings.TrimSuffix(keyType, "-cert-v01@openssh.com")]
			config := fmt.Sprintf("HostKey %s\nKexAlgorithms %s\nHostKeyAlgorithms %s\nUsePAM no\nStrictModes no\nPidFile none\nLogLevel ERROR\n",
				keyFile, c.method, c.algo)
			wantBlob := pubBlob(t, keyFile+".pub")
			if strings.HasSuffix(c.algo, "-cert-v01@openssh.com") {
				config += "HostCertificate " + files[c.algo] + "\n"
				wantBlob = pubBlob(t, files[c.algo])
			}
			cfgPath := filepath.Join(t.TempDir(), "sshd_config")
			if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(sshdPath, "-i", "-e", "-f", cfgPath)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			res, err := runClient(stdin, stdout, c.method, c.algo)
			stdin.Close()
			cmd.Process.Kill()
			cmd.Wait() // stderr is complete only after Wait
			if err != nil {
				if strings.Contains(stderr.String(), "privilege separation") {
					requirePeerFailure(t, "sshd cannot run here: "+stderr.String())
				}
				t.Fatalf("%v\nsshd: %s", err, stderr.String())
			}
			if !bytes.Equal(res.HostKeyBlob, wantBlob) {
				t.Error("host key differs from sshd's key file")
			}
		})
	}
}

func requirePeerFailure(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// runClient does a whole key exchange with our client machine.
func runClient(w io.Writer, r io.Reader, method, algo string) (*kex.Result, error) {
	br := bufio.NewReader(r)
	vc := []byte("SSH-2.0-paramigo_kex_test")
	if _, err := w.Write(append(vc, '\r', '\n')); err != nil {
		return nil, err
	}
	ki := ourKexInit(method, algo, true)
	if err := writePacket(w, ki.Raw); err != nil {
		return nil, err
	}
	vs, err := readVersion(br)
	if err != nil {
		return nil, fmt.Errorf("reading version: %w", err)
	}
	p, err := readPacket(br)
	if err != nil {
		return nil, fmt.Errorf("reading KEXINIT: %w", err)
	}
	var ks msg.KexInit
	if err := ks.Unmarshal(p); err != nil {
		return nil, err
	}
	n, err := kex.Negotiate(ki, &ks)
	if err != nil {
		return nil, err
	}
	if n.Kex != method || n.HostKey != algo || !n.StrictKex {
		return nil, fmt.Errorf("negotiated %+v", n)
	}
	c, err := kex.NewClient(n.Kex, nil, kex.Magics{ClientVersion: vc, ServerVersion: vs, ClientKexInit: ki.Raw, ServerKexInit: ks.Raw}, n.HostKey)
	if err != nil {
		return nil, err
	}
	out, err := c.Start()
	for err == nil {
		if err = writePacket(w, out); err != nil {
			break
		}
		var in []byte
		if in, err = readPacket(br); err != nil {
			break
		}
		var res *kex.Result
		out, res, err = c.Step(in)
		if res != nil {
			return res, nil
		}
	}
	return nil, err
}

func TestInteropServerAgainstSSH(t *testing.T) {
	requirePeer(t, sshPath)
	moduli, err := kex.LoadModuli("testdata/moduli")
	if err != nil {
		t.Fatal(err)
	}
	signers := map[string]keys.Signer{}
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		bits := 0
		if typ == "rsa" {
			bits = 2048
		}
		k, err := keys.GenerateKey(nil, typ, bits, nil)
		if err != nil {
			t.Fatal(err)
		}
		signers[k.PublicKey().Type()] = k
	}
	type tc struct{ method, algo string }
	var cases []tc
	for _, m := range []string{
		kex.KexCurve25519SHA256, kex.KexCurve25519SHA256LibSSH, kex.KexECDHP256, kex.KexECDHP384, kex.KexECDHP521,
		kex.KexDHGexSHA256, kex.KexDHGroup14SHA256, kex.KexDHGroup16SHA512, kex.InsecureKexDHGroup1SHA1, kex.InsecureKexDHGexSHA1,
	} {
		cases = append(cases, tc{m, keys.KeyTypeEd25519})
	}
	for _, a := range []string{keys.KeyTypeECDSA256, keys.SigAlgoRSASHA256, keys.SigAlgoRSASHA512} {
		cases = append(cases, tc{kex.KexCurve25519SHA256, a})
	}
	for _, c := range cases {
		t.Run("kex="+c.method+"/hostkey="+c.algo, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := l.Addr().(*net.TCPAddr).Port
			cmd := exec.Command(sshPath, "-F", "/dev/null", "-o", "BatchMode=yes",
				"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
				"-o", "KexAlgorithms="+c.method, "-o", "HostKeyAlgorithms="+c.algo,
				"-p", fmt.Sprint(port), "test@127.0.0.1", "true")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			err = acceptAndServe(l, c.method, c.algo, signers[keys.KeyTypeForAlgorithm(c.algo)], moduli)
			cmd.Process.Kill()
			cmd.Wait() // stderr is complete only after Wait
			if err != nil {
				t.Fatalf("%v\nssh: %s", err, stderr.String())
			}
		})
	}
}

func acceptAndServe(l net.Listener, method, algo string, signer keys.Signer, moduli *kex.Moduli) error {
	l.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := l.Accept()
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return runServer(conn, method, algo, signer, moduli)
}

// runServer does a whole key exchange with our server machine and then
// waits for the client's NEWKEYS, which ssh sends only once our signature
// over its H verified.
func runServer(conn net.Conn, method, algo string, signer keys.Signer, moduli *kex.Moduli) error {
	br := bufio.NewReader(conn)
	vs := []byte("SSH-2.0-paramigo_kex_test")
	if _, err := conn.Write(append(vs, '\r', '\n')); err != nil {
		return err
	}
	ks := ourKexInit(method, algo, false)
	if err := writePacket(conn, ks.Raw); err != nil {
		return err
	}
	vc, err := readVersion(br)
	if err != nil {
		return fmt.Errorf("reading version: %w", err)
	}
	p, err := readPacket(br)
	if err != nil {
		return fmt.Errorf("reading KEXINIT: %w", err)
	}
	var kc msg.KexInit
	if err := kc.Unmarshal(p); err != nil {
		return err
	}
	n, err := kex.Negotiate(&kc, ks)
	if err != nil {
		return err
	}
	if n.Kex != method || n.HostKey != algo || !n.StrictKex || !n.ClientExtInfo {
		return fmt.Errorf("negotiated %+v", n)
	}
	s, err := kex.NewServer(n.Kex, nil, kex.Magics{ClientVersion: vc, ServerVersion: vs, ClientKexInit: kc.Raw, ServerKexInit: ks.Raw}, signer, n.HostKey, moduli)
	if err != nil {
		return err
	}
	for {
		in, err := readPacket(br)
		if err != nil {
			return fmt.Errorf("reading kex message: %w", err)
		}
		out, res, err := s.Step(in)
		if err != nil {
			return err
		}
		if err := writePacket(conn, out); err != nil {
			return err
		}
		if res != nil {
			break
		}
	}
	if err := writePacket(conn, (&msg.NewKeys{}).Marshal()); err != nil {
		return err
	}
	in, err := readPacket(br)
	if err != nil {
		return fmt.Errorf("waiting for the client's NEWKEYS: %w", err)
	}
	if len(in) == 0 || in[0] != msg.MsgNewKeys {
		return fmt.Errorf("client sent %s instead of NEWKEYS", msg.Name(in[0]))
	}
	return nil
}
