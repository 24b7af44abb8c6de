package cipher

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
)

// systemPython is Debian's interpreter, which has python3-paramiko; a
// python3 earlier on PATH may not.
const systemPython = "/usr/bin/python3"

// needPeer skips the test when an interop peer is missing, or fails it when
// PARAMIGO_REQUIRE_PEERS=1 says the peers must be there.
func needPeer(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
		t.Fatalf("required peer missing: "+format, args...)
	}
	t.Skipf("peer missing (set PARAMIGO_REQUIRE_PEERS=1 to fail instead): "+format, args...)
}

// runPacketizer sends req to testdata/paramiko_packetizer.py and decodes its
// answer into resp.
func runPacketizer(t *testing.T, req, resp any) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemPython, "testdata/paramiko_packetizer.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("paramiko_packetizer.py: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(out, resp); err != nil {
		t.Fatalf("paramiko_packetizer.py answer: %v\n%s", err, out)
	}
}

type packetizerCase struct {
	Cipher string           `json:"cipher"`
	MAC    string           `json:"mac"`
	Key    string           `json:"key"`
	IV     string           `json:"iv"`
	MACKey string           `json:"mac_key"`
	Open   []packetizerItem `json:"open"`
	Seal   []packetizerItem `json:"seal"`
}

type packetizerItem struct {
	Seq     uint32 `json:"seq"`
	Packet  string `json:"packet,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// TestParamikoPacketizer exchanges packets with paramiko's Packetizer, a
// second, independent implementation of RFC 4253 §6 framing, in both
// directions, for every cipher and MAC both sides implement. (paramiko 2.12
// has no AES-GCM or ChaCha20-Poly1305; TestKnownAnswers covers those.)
func TestParamikoPacketizer(t *testing.T) {
	if _, err := os.Stat(systemPython); err != nil {
		needPeer(t, "%s: %v", systemPython, err)
	}
	if out, err := exec.Command(systemPython, "-c", "import paramiko").CombinedOutput(); err != nil {
		needPeer(t, "paramiko for %s: %v\n%s", systemPython, err, out)
	}
	var list struct{ Ciphers, MACs []string }
	runPacketizer(t, map[string]bool{"list": true}, &list)

	sizes := []int{1, 2, 15, 16, 17, 100, 1000, 35000}
	seqs := []uint32{0xfffffffe, 0xffffffff, 0, 1, 2, 1000, 7, 3}
	var combos []combo
	var req struct {
		Cases []packetizerCase `json:"cases"`
	}
	var payloads [][]byte
	for i, n := range sizes {
		payloads = append(payloads, seqBytes(n, byte(i*31+1)))
	}
	for _, c := range allCombos() {
		if !slices.Contains(list.Ciphers, c.cipher) || !slices.Contains(list.MACs, c.mac) {
			continue
		}
		combos = append(combos, c)
		s, _ := newPair(t, c)
		key, iv, macKey := testKeys(t, c)
		pc := packetizerCase{Cipher: c.cipher, MAC: c.mac, Key: hex.EncodeToString(key), IV: hex.EncodeToString(iv), MACKey: hex.EncodeToString(macKey)}
		for i, p := range payloads {
			pc.Open = append(pc.Open, packetizerItem{Seq: seqs[i], Packet: hex.EncodeToString(s.Seal(nil, seqs[i], p))})
			pc.Seal = append(pc.Seal, packetizerItem{Seq: seqs[i], Payload: hex.EncodeToString(p)})
		}
		req.Cases = append(req.Cases, pc)
	}
	// Both sides implement the CTR and CBC ciphers with SHA-1, SHA-2 and
	// MD5 HMACs, and SHA-2 ETM: a shrinking intersection is a regression.
	if len(combos) < 7*8 {
		t.Fatalf("only %d combinations in common with paramiko (%v, %v)", len(combos), list.Ciphers, list.MACs)
	}

	var resp struct {
		Cases []struct{ Opened, Sealed []string }
	}
	runPacketizer(t, req, &resp)
	if len(resp.Cases) != len(combos) {
		t.Fatalf("paramiko answered %d cases, want %d", len(resp.Cases), len(combos))
	}
	for ci, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			got := resp.Cases[ci]
			_, o := newPair(t, c)
			for i, p := range payloads {
				if got.Opened[i] != hex.EncodeToString(p) {
					t.Errorf("paramiko opened packet %d (%d bytes) as %.40s..., want %.40x...", i, len(p), got.Opened[i], p)
				}
				pkt, err := hex.DecodeString(got.Sealed[i])
				if err != nil {
					t.Fatal(err)
				}
				rest, err := o.PacketLen(seqs[i], pkt[:o.HeaderLen()])
				if err != nil {
					t.Fatalf("paramiko's packet %d: PacketLen: %v", i, err)
				}
				if o.HeaderLen()+rest != len(pkt) {
					t.Fatalf("paramiko's packet %d: PacketLen wants %d more bytes, packet has %d", i, rest, len(pkt)-o.HeaderLen())
				}
				payload, err := o.Open(seqs[i], pkt)
				if err != nil {
					t.Fatalf("paramiko's packet %d: Open: %v", i, err)
				}
				if !bytes.Equal(payload, p) {
					t.Fatalf("paramiko's packet %d: payload %.40x..., want %.40x...", i, payload, p)
				}
			}
		})
	}
}
