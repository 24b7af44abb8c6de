#!/bin/sh
# Regenerates fingerprints.txt: for each key OpenSSH can load, the SHA256
# fingerprint ssh-keygen (OpenSSH 9.2) computes, an oracle independent of
# paramigo. Passphrases are those listed in README.md.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in *.key; do
  case $f in blank_rsa.key|ed448.key) continue;; esac
  case $f in
    test_ed25519_password.key) p=abc123;;
    test_ed25519-funky-padding_password.key) p=asdf;;
    *password*|test_rsa_openssh.key|test_ecdsa_384_openssh.key|test_dss_openssh.key) p=television;;
    *) p=;;
  esac
  install -m 600 "$f" "$tmp/k"
  ssh-keygen -y -P "$p" -f "$tmp/k" > "$tmp/k.pub"
  printf '%s %s\n' "$f" "$(ssh-keygen -l -E sha256 -f "$tmp/k.pub" | cut -d' ' -f2)"
done > fingerprints.txt
