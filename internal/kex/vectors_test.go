package kex

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/paramigo/paramigo/keys"
)

// vectorFile is testdata/vectors.json, made by testdata/gen_vectors.py.
type vectorFile struct {
	ClientVersion string   `json:"client_version"`
	ServerVersion string   `json:"server_version"`
	ClientKexInit hexBytes `json:"client_kexinit"`
	ServerKexInit hexBytes `json:"server_kexinit"`
	HostKeySeed   hexBytes `json:"host_key_seed"`
	Vectors       []struct {
		Method        string              `json:"method"`
		ClientRand    hexBytes            `json:"client_rand"`
		ServerRand    hexBytes            `json:"server_rand"`
		GexSizes      []uint32            `json:"gex_sizes"`
		ClientInit    hexBytes            `json:"client_init"`
		ServerGroup   hexBytes            `json:"server_group"`
		ClientGexInit hexBytes            `json:"client_gex_init"`
		ServerReply   hexBytes            `json:"server_reply"`
		K             hexBytes            `json:"K"`
		H             hexBytes            `json:"H"`
		Keys          map[string]hexBytes `json:"keys"`
	} `json:"vectors"`
	Derivation struct {
		K         hexBytes `json:"K"`
		H         hexBytes `json:"H"`
		SessionID hexBytes `json:"session_id"`
		Letter    string   `json:"letter"`
		N         int      `json:"n"`
		Out       hexBytes `json:"out"`
	} `json:"derivation"`
}

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

func loadVectors(t *testing.T) *vectorFile {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectorFile
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

// step runs one machine step and insists on the expected payload.
func checkPayload(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the vector\n got %x\nwant %x", what, got, want)
	}
}

func TestKnownAnswers(t *testing.T) {
	vf := loadVectors(t)
	if len(vf.Vectors) < 9 {
		t.Fatalf("only %d vectors", len(vf.Vectors))
	}
	m := Magics{
		ClientVersion: []byte(vf.ClientVersion),
		ServerVersion: []byte(vf.ServerVersion),
		ClientKexInit: vf.ClientKexInit,
		ServerKexInit: vf.ServerKexInit,
	}
	hostKey, err := keys.NewPrivateKey(ed25519.NewKeyFromSeed(vf.HostKeySeed), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vf.Vectors {
		t.Run(v.Method, func(t *testing.T) {
			crand, srand := bytes.NewReader(v.ClientRand), bytes.NewReader(v.ServerRand)
			c, err := NewClient(v.Method, crand, m, keys.KeyTypeEd25519)
			if err != nil {
				t.Fatal(err)
			}
			if v.GexSizes != nil {
				if err := c.SetGexSizes(v.GexSizes[0], v.GexSizes[1], v.GexSizes[2]); err != nil {
					t.Fatal(err)
				}
			}
			s, err := NewServer(v.Method, srand, m, hostKey, keys.KeyTypeEd25519, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.Start()
			if err != nil {
				t.Fatal(err)
			}
			checkPayload(t, "client's first message", out, v.ClientInit)
			if v.ServerGroup != nil {
				group, _, err := s.Step(out)
				if err != nil {
					t.Fatal(err)
				}
				checkPayload(t, "server's group", group, v.ServerGroup)
				if out, _, err = c.Step(group); err != nil {
					t.Fatal(err)
				}
				checkPayload(t, "client's GEX init", out, v.ClientGexInit)
			}
			reply, sres, err := s.Step(out)
			if err != nil {
				t.Fatal(err)
			}
			checkPayload(t, "server's reply", reply, v.ServerReply)
			_, cres, err := c.Step(reply)
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range []*Result{cres, sres} {
				checkPayload(t, "K", res.K, v.K)
				checkPayload(t, "H", res.H, v.H)
			}
			for letter, want := range v.Keys {
				got := cres.DeriveKey(cres.H, letter[0], len(want))
				checkPayload(t, "key "+letter, got, want)
			}
			if crand.Len() != 0 || srand.Len() != 0 {
				t.Errorf("random bytes left unread: client %d, server %d", crand.Len(), srand.Len())
			}
		})
	}
}

func TestDeriveKeyKnownAnswer(t *testing.T) {
	d := loadVectors(t).Derivation
	got := DeriveKey(crypto.SHA256, d.K, d.H, d.SessionID, d.Letter[0], d.N)
	checkPayload(t, "derived key", got, d.Out)
	// Shorter requests are prefixes of longer ones.
	for _, n := range []int{0, 1, 31, 32, 33, 64} {
		if got := DeriveKey(crypto.SHA256, d.K, d.H, d.SessionID, d.Letter[0], n); !bytes.Equal(got, d.Out[:n]) {
			t.Errorf("n=%d is not a prefix", n)
		}
	}
}

// TestVectorsRegenerate reruns the Python generator and checks it still
// produces the committed vectors, so the file cannot drift from its source.
func TestVectorsRegenerate(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		skipOrFail(t, "no "+python+" to rerun testdata/gen_vectors.py")
	}
	if err := exec.Command(python, "-c", "import cryptography.hazmat.primitives.asymmetric.x25519").Run(); err != nil {
		skipOrFail(t, "python cryptography package missing: "+err.Error())
	}
	cmd := exec.Command(python, "gen_vectors.py")
	cmd.Dir = "testdata"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gen_vectors.py: %v", err)
	}
	want, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Fatal("gen_vectors.py output differs from testdata/vectors.json; regenerate and review")
	}
}

// skipOrFail skips when a peer tool is missing, unless the environment
// requires peers (PARAMIGO_REQUIRE_PEERS=1).
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("PARAMIGO_REQUIRE_PEERS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}
