#!/bin/sh
# The README's two set-up-and-go commands:
#   sh run.sh demo   build a venv, install pcapping, run `pcapping lab demo`
#   sh run.sh test   build a venv, install pcapping with its test tools, run the tests
# Both need root (network namespaces, packet sockets): run as a normal user, this script
# runs itself again with sudo; run as root (a machine without sudo), it just goes on.
set -e
cd "$(dirname "$0")"
if [ "$(id -u)" != 0 ]; then
    exec sudo sh "$0" "$@"
fi
case "$1" in
    demo)
        python3 -m venv .venv
        .venv/bin/pip install -q .
        exec .venv/bin/pcapping lab demo ;;
    test)
        python3 -m venv .venv
        .venv/bin/pip install -q -e ".[test]"
        exec .venv/bin/python -m pytest -q ;;
    *)
        echo "usage: sh run.sh demo|test" >&2
        exit 2 ;;
esac
