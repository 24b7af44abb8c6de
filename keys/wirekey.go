package keys

import (
	"bytes"
	"crypto"
	"crypto/dsa" //lint:ignore SA1019 DSS keys are loaded for legacy peers, by explicit opt-in
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"math/big"

	"github.com/paramigo/paramigo/wire"
)

// ReadWirePrivateKey reads a private key in the form that an agent's
// add-identity request (draft-miller-ssh-agent §4.2) and the private
// section of an openssh-key-v1 file share: the key type, then the key's
// fields. For a certificate type the certificate blob comes first and only
// the private fields that the certificate does not carry follow; the
// certificate is returned with the key, which is checked to match it.
// Nothing after the key (the comment, constraints) is read.
func ReadWirePrivateKey(r *wire.Reader) (*PrivateKey, *Certificate, error) {
	typ := r.Text()
	if err := r.Err(); err != nil {
		return nil, nil, malformed("private key type", err)
	}
	if !IsCertAlgorithm(typ) {
		k, err := readPrivateFields(r, typ, nil)
		return k, nil, err
	}
	blob := r.Bytes()
	if err := r.Err(); err != nil {
		return nil, nil, malformed(typ+" certificate", err)
	}
	pub, err := ParsePublicKey(blob)
	if err != nil {
		return nil, nil, err
	}
	cert, ok := pub.(*Certificate)
	if !ok || cert.Type() != typ {
		return nil, nil, malformed(fmt.Sprintf("private key of type %s holds a %s blob", typ, pub.Type()), nil)
	}
	k, err := readPrivateFields(r, cert.Key.Type(), cert.Key)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(k.PublicKey().Marshal(), cert.Key.Marshal()) {
		return nil, nil, fmt.Errorf("%w: private key for %s", ErrCertKeyMismatch, typ)
	}
	return k, cert, nil
}

// readPrivateFields reads the fields of a typ private key. With certified
// set, the public fields come from that key instead of r, as in the
// certificate forms.
func readPrivateFields(r *wire.Reader, typ string, certified PublicKey) (*PrivateKey, error) {
	var pub crypto.PublicKey
	if certified != nil {
		cp, ok := certified.(CryptoPublicKey)
		if !ok {
			return nil, &UnsupportedKeyError{Type: typ}
		}
		pub = cp.CryptoPublicKey()
	}
	var (
		key crypto.PrivateKey
		err error
	)
	switch typ {
	case KeyTypeEd25519:
		// Both forms repeat the public key here.
		pubBytes, priv := r.Bytes(), r.Bytes()
		if err := r.Err(); err != nil {
			return nil, malformed("ssh-ed25519 private key", err)
		}
		if len(pubBytes) != ed25519.PublicKeySize {
			return nil, malformed("ssh-ed25519 public key length", nil)
		}
		key, err = newEd25519Private(priv, pubBytes)
	case KeyTypeECDSA256, KeyTypeECDSA384, KeyTypeECDSA521:
		c := curveByType(typ)
		var ecPub *ecdsa.PublicKey
		if pub != nil {
			ecPub = pub.(*ecdsa.PublicKey)
		} else {
			name, point := r.Text(), r.Bytes()
			if err := r.Err(); err != nil {
				return nil, malformed(typ+" private key", err)
			}
			if name != c.name {
				return nil, malformed(typ+" private key: curve name "+name+" does not match", nil)
			}
			var perr error
			if ecPub, perr = ecdsa.ParseUncompressedPublicKey(c.curve, point); perr != nil {
				return nil, malformed(typ+" public point", perr)
			}
		}
		d := r.MPInt()
		if err := r.Err(); err != nil {
			return nil, malformed(typ+" private key", err)
		}
		if d.Sign() <= 0 {
			return nil, malformed(typ+" private scalar is not positive", nil)
		}
		key, err = newECDSAPrivate(c, d.Bytes(), ecPub)
	case KeyTypeRSA:
		var n, e *big.Int
		if pub != nil {
			rp := pub.(*rsa.PublicKey)
			n, e = rp.N, big.NewInt(int64(rp.E))
		} else {
			n, e = r.MPInt(), r.MPInt()
		}
		d, iqmp, p, q := r.MPInt(), r.MPInt(), r.MPInt(), r.MPInt()
		if err := r.Err(); err != nil {
			return nil, malformed("ssh-rsa private key", err)
		}
		key, err = newRSAPrivate(n, e, d, iqmp, p, q)
	case KeyTypeDSA:
		var p, q, g, y *big.Int
		if pub != nil {
			dp := pub.(*dsa.PublicKey)
			p, q, g, y = dp.P, dp.Q, dp.G, dp.Y
		} else {
			p, q, g, y = r.MPInt(), r.MPInt(), r.MPInt(), r.MPInt()
		}
		x := r.MPInt()
		if err := r.Err(); err != nil {
			return nil, malformed("ssh-dss private key", err)
		}
		key, err = newDSAPrivate(p, q, g, y, x)
	default:
		return nil, &UnsupportedKeyError{Type: typ}
	}
	if err != nil {
		return nil, err
	}
	return NewPrivateKey(key, "")
}

// AppendWirePrivateKey writes k in the form ReadWirePrivateKey reads: the
// plain form when cert is nil, else the certificate form, in which cert
// must certify k's public key.
func AppendWirePrivateKey(w *wire.Builder, k *PrivateKey, cert *Certificate) error {
	if k == nil || k.key == nil {
		return fmt.Errorf("keys: AppendWirePrivateKey of an empty PrivateKey")
	}
	if cert != nil {
		if cert.Key == nil || !bytes.Equal(cert.Key.Marshal(), k.PublicKey().Marshal()) {
			return fmt.Errorf("%w: AppendWirePrivateKey", ErrCertKeyMismatch)
		}
		w.AddString(cert.Type())
		w.AddBytes(cert.Marshal())
	}
	withPublic := cert == nil
	switch key := k.key.(type) {
	case ed25519.PrivateKey:
		if withPublic {
			w.AddString(KeyTypeEd25519)
		}
		w.AddBytes(key[ed25519.SeedSize:])
		w.AddBytes(key)
	case *ecdsa.PrivateKey:
		c := curveOf(key.Curve)
		if c == nil {
			return &UnsupportedKeyError{Type: "ecdsa " + key.Curve.Params().Name}
		}
		d, err := key.Bytes()
		if err != nil {
			return err
		}
		if withPublic {
			point, err := key.PublicKey.Bytes()
			if err != nil {
				return err
			}
			w.AddString(c.keyType)
			w.AddString(c.name)
			w.AddBytes(point)
		}
		w.AddMPInt(new(big.Int).SetBytes(d))
	case *rsa.PrivateKey:
		iqmp, err := rsaParts(key)
		if err != nil {
			return err
		}
		if withPublic {
			w.AddString(KeyTypeRSA)
			w.AddMPInt(key.N)
			w.AddMPInt(big.NewInt(int64(key.E)))
		}
		w.AddMPInt(key.D)
		w.AddMPInt(iqmp)
		w.AddMPInt(key.Primes[0])
		w.AddMPInt(key.Primes[1])
	case *dsa.PrivateKey:
		if withPublic {
			w.AddString(KeyTypeDSA)
			w.AddMPInt(key.P)
			w.AddMPInt(key.Q)
			w.AddMPInt(key.G)
			w.AddMPInt(key.Y)
		}
		w.AddMPInt(key.X)
	default:
		return &UnsupportedKeyError{Type: fmt.Sprintf("%T", k.key)}
	}
	return nil
}
