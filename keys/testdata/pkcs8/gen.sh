#!/bin/sh
# Regenerates the OpenSSL-made key files in this directory (OpenSSL 3.0).
# Every supported key gets NAME.pub: its public half as `openssl pkey -pubout`
# prints it, which the tests compare against what paramigo derives.
set -eu
cd "$(dirname "$0")"
P=paramigo-test
rm -f ./*.pem ./*.pub ./*.key ./*.param

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec256-base.key
openssl pkcs8 -topk8 -nocrypt -in ec256-base.key -out ec256-pkcs8.pem
openssl pkcs8 -topk8 -in ec256-base.key -v2 aes-128-cbc -v2prf hmacWithSHA1 -passout pass:$P -out ec256-pbkdf2-sha1-aes128.pem
openssl pkcs8 -topk8 -in ec256-base.key -v2 aes-192-cbc -v2prf hmacWithSHA256 -passout pass:$P -out ec256-pbkdf2-sha256-aes192.pem
openssl pkcs8 -topk8 -in ec256-base.key -v2 aes-256-cbc -v2prf hmacWithSHA512 -passout pass:$P -out ec256-pbkdf2-sha512-aes256.pem
openssl pkcs8 -topk8 -in ec256-base.key -v2 des3 -v2prf hmacWithSHA1 -passout pass:$P -out ec256-pbkdf2-sha1-des3.pem
openssl pkcs8 -topk8 -in ec256-base.key -scrypt -scrypt_N 1024 -scrypt_r 8 -scrypt_p 1 -passout pass:$P -out ec256-scrypt-aes256.pem
openssl pkcs8 -topk8 -in ec256-base.key -v1 PBE-SHA1-3DES -passout pass:$P -out ec256-pbes1-sha1-3des.pem
openssl ec -in ec256-base.key -aes256 -passout pass:$P -out ec256-legacy-aes256.pem
openssl ec -in ec256-base.key -param_enc explicit -out ec256-explicit.pem
openssl pkey -in ec256-base.key -pubout -out ec256-base.pub
for n in pkcs8 pbkdf2-sha1-aes128 pbkdf2-sha256-aes192 pbkdf2-sha512-aes256 pbkdf2-sha1-des3 scrypt-aes256 legacy-aes256; do
  cp ec256-base.pub ec256-$n.pub
done
rm ec256-base.key ec256-base.pub

openssl ecparam -name secp384r1 -genkey -out ec384-with-params.pem
openssl pkey -in ec384-with-params.pem -pubout -out ec384-with-params.pub

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa-base.key
openssl rsa -in rsa-base.key -aes192 -traditional -passout pass:$P -out rsa-legacy-aes192.pem
openssl pkey -in rsa-base.key -pubout -out rsa-legacy-aes192.pub
rm rsa-base.key

openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 -pkeyopt dsa_paramgen_q_bits:160 -out dsa.param
openssl genpkey -paramfile dsa.param -out dsa-pkcs8.pem
openssl pkcs8 -topk8 -in dsa-pkcs8.pem -v2 aes-256-cbc -passout pass:$P -out dsa-pkcs8-enc.pem
openssl pkey -in dsa-pkcs8.pem -pubout -out dsa-pkcs8.pub
cp dsa-pkcs8.pub dsa-pkcs8-enc.pub
rm dsa.param

openssl genpkey -algorithm ed25519 -out ed25519-pkcs8.pem
openssl pkcs8 -topk8 -in ed25519-pkcs8.pem -v2 aes-256-cbc -passout pass:$P -out ed25519-pkcs8-enc.pem
openssl pkey -in ed25519-pkcs8.pem -pubout -out ed25519-pkcs8.pub
cp ed25519-pkcs8.pub ed25519-pkcs8-enc.pub

# Unsupported by SSH: must fail with an error naming what the file holds.
openssl genpkey -algorithm ed448 -out ed448.pem
openssl genpkey -algorithm x25519 -out x25519.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-224 -out ec-p224.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out ec-secp256k1.pem
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:1024 -out rsa-pss.pem
