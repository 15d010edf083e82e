package arch

// The images `make images` builds (deploy/images/build.sh, which TestImageNames holds to these names): the
// defaults of the Docker stack, of the loader containers and of the Kubernetes manifests. Each can be
// replaced through its CHAOSBENCH_*_IMAGE variable (docs/stack.md).
const (
	// DefaultBaseImage runs Redis, NGINX and the fault sidecar: redis-server, nginx-light, iproute2,
	// iptables on Debian.
	DefaultBaseImage = "chaosbench/base:bookworm"
	// DefaultRefapiImage is the reference API's static binary alone.
	DefaultRefapiImage = "chaosbench/refapi:dev"
	// DefaultLoaderImage is chaosbench's static binary alone, as its entrypoint: `chaosbench worker`.
	DefaultLoaderImage = "chaosbench/loader:dev"
)
