#!/usr/bin/env bash
# Makes the cluster's PKI with openssl, once: a CA, the API server's serving certificate, the service-account
# key pair, and a client certificate plus kubeconfig for each client (admin, kubelet, controller-manager,
# scheduler, kube-proxy, and the API server's own client for kubelets). Kept across `make k8s-cluster-down`;
# delete build/k8s-cluster/pki to make new ones.
source "$(dirname "$0")/lib.sh"
HOST_IP=$(host_ip)

mkdir -p "$PKI"
cd "$PKI"
if [ ! -f ca.crt ]; then
  openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 3650 -subj "/CN=chaosbench-k8s-ca" 2>/dev/null
fi

# cert NAME SUBJECT [SANS] issues NAME.crt/NAME.key signed by the CA unless they exist.
cert() {
  local name=$1 subj=$2 sans=${3:-}
  [ -f "$name.crt" ] && return
  openssl req -new -nodes -newkey rsa:2048 -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$sans"
    else echo "extendedKeyUsage=clientAuth"; fi
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 3650 -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

# The serving certificate names every way a client reaches the API server: the host's address is part of
# it, so a machine whose address changed needs `rm -r build/k8s-cluster/pki`.
cert apiserver "/CN=kube-apiserver" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$API_SERVICE_IP,IP:$HOST_IP,IP:$POD_GATEWAY"
cert kubelet-serving "/CN=$NODE" "DNS:$NODE,DNS:localhost,IP:127.0.0.1,IP:$HOST_IP"
# system:masters: the API server may do anything on the kubelet (exec, attach, logs, port-forward).
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert admin "/O=system:masters/CN=chaosbench-admin"
cert kubelet "/O=system:nodes/CN=system:node:$NODE"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
cert kube-proxy "/CN=system:kube-proxy"
[ -f sa.key ] || { openssl genrsa -out sa.key 2048 2>/dev/null; openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null; }
chmod 600 ./*.key

# kubeconfig NAME FILE writes a kubeconfig for the client certificate NAME.
kubeconfig() {
  local name=$1 file=$2
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: chaosbench
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$name.crt")
    client-key-data: $(base64 -w0 "$name.key")
contexts:
- name: chaosbench
  context: {cluster: chaosbench, user: $name}
current-context: chaosbench
KC
  chmod 600 "$file"
}
kubeconfig admin "$KUBECONFIG_ADMIN"
for c in kubelet controller-manager scheduler kube-proxy; do kubeconfig "$c" "$PKI/$c.kubeconfig"; done
