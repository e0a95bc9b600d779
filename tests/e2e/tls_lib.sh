# Helpers for the TLS e2e tests (sourced after lib.sh): test certificates
# made by openssl in $TMP/certs ($C) and a free loopback port.

# mkca NAME: a self-signed CA in $C/NAME.crt, $C/NAME.key.
mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$C/$1.key" -out "$C/$1.crt" >/dev/null 2>&1
}

# mkcert NAME CA CN [EXTFILE]: a key and a certificate signed by CA.
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$3" \
		-keyout "$C/$1.key" -out "$C/$1.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.crt" \
		-CAkey "$C/$2.key" -CAcreateserial -days 2 \
		-out "$C/$1.crt" ${4:+-extfile "$4"} >/dev/null 2>&1
}

# make_certs: CA "ca" with a server certificate (CN and SAN 127.0.0.1 and
# localhost) and a client certificate, and a second CA "badca" with a
# client certificate "evil" of its own. Passes or fails the check.
make_certs() {
	C="$TMP/certs"
	mkdir -p "$C"
	# mbedTLS 2.28 (under Debian 12's NNG) matches the name only against
	# DNS entries of the SAN, so 127.0.0.1 is there both as DNS and IP.
	printf 'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\n' \
		>"$C/server.ext"
	if ! { mkca ca && mkca badca &&
		mkcert server ca 127.0.0.1 "$C/server.ext" &&
		mkcert client ca tls-test-client &&
		mkcert evil badca tls-test-client; }; then
		fail "openssl makes the test certificates"
		return 1
	fi
	pass "openssl makes the test certificates"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
