#!/bin/bash
# Devstack plugin of Skydive (TypeScript). In local.conf:
#   enable_plugin skydive <URL or file:// path of this repository> [branch]
#   enable_service skydive-analyzer skydive-agent      # compute nodes: skydive-agent only
# Phases:
#   stack pre-install   check Node.js >= 20 (devstack installs npm/make/g++ through install_package)
#   stack install       build the project in $SKYDIVE_DIR (make build, once) and link the CLI in $SKYDIVE_BIN_DIR
#   stack post-config   write $SKYDIVE_CONFIG_FILE, start skydive-analyzer / skydive-agent with run_process
#   unstack             stop the services
#   clean               remove the configuration file and the CLI link
# Variables and defaults: devstack/settings; docs/lab.md has examples.

function skydive_yaml_list {
    # "a b c" -> YAML flow sequence [a, b, c]
    local out="" w
    for w in $1; do out="${out:+$out, }$w"; done
    echo "[$out]"
}

function skydive_fabric_rules {
    # one TOR switch, one port per node of SKYDIVE_PUBLIC_INTERFACES, linked to that node's interface
    local spec host intf
    for spec in $SKYDIVE_PUBLIC_INTERFACES; do
        host=${spec%%/*}
        intf=${spec#*/}
        echo "      - \"TOR[Name=TOR Switch, Type=switch] -> PORT_${host}[Name=${host} Port, Type=port]\""
        echo "      - \"PORT_${host} --> *[Type=host, Name=${host}]/${intf}\""
    done
}

function pre_install_skydive {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -lt 20 ]; then
        die $LINENO "Skydive needs Node.js 20 or later (found: $(node --version 2>/dev/null || echo none))"
    fi
    if [ "$SKYDIVE_FLOWS_STORAGE" = elasticsearch ] || [ "$SKYDIVE_GRAPH_STORAGE" = elasticsearch ]; then
        echo_summary "Skydive will use Elasticsearch at $SKYDIVE_ELASTICSEARCH_HOSTS (not installed by this plugin)"
    fi
}

function install_skydive {
    if [ ! -f "$SKYDIVE_DIR/dist/cli/skydive.cjs" ]; then
        install_package make g++ libpcap-dev
        (cd "$SKYDIVE_DIR" && make build) || die $LINENO "cannot build Skydive in $SKYDIVE_DIR"
    fi
    sudo mkdir -p "$SKYDIVE_BIN_DIR"
    sudo ln -sfn "$SKYDIVE_DIR/bin/skydive" "$SKYDIVE_BIN_DIR/skydive"
}

function configure_skydive {
    local analyzers="" a
    for a in $SKYDIVE_ANALYZERS; do analyzers="${analyzers:+$analyzers, }$a"; done
    sudo mkdir -p "$(dirname "$SKYDIVE_CONFIG_FILE")"
    {
        echo "# Written by the Skydive devstack plugin (post-config)."
        echo "host_id: $LOCAL_HOSTNAME"
        echo "logging:"
        echo "  level: $SKYDIVE_LOGLEVEL"
        echo "analyzers: [$analyzers]"
        if [ "$SKYDIVE_AUTH" = keystone ]; then
            echo "auth:"
            echo "  keystone:"
            echo "    type: keystone"
            echo "    auth_url: ${KEYSTONE_AUTH_URI}/${SKYDIVE_KEYSTONE_API_VERSION}"
            echo "    tenant_name: admin"
            echo "    domain_name: $SERVICE_DOMAIN_NAME"
        fi
        echo "agent:"
        echo "  listen: $SKYDIVE_AGENT_LISTEN"
        echo "  topology:"
        echo "    probes: $(skydive_yaml_list "$SKYDIVE_AGENT_PROBES")"
        if [[ " $SKYDIVE_AGENT_PROBES " == *" neutron "* ]]; then
            echo "    neutron:"
            echo "      auth_url: ${KEYSTONE_AUTH_URI}/${SKYDIVE_KEYSTONE_API_VERSION}"
            echo "      username: admin"
            echo "      password: $ADMIN_PASSWORD"
            echo "      tenant_name: admin"
            echo "      region_name: RegionOne"
            echo "      domain_name: $SERVICE_DOMAIN_NAME"
        fi
        echo "ovs:"
        if [ -n "$SKYDIVE_OVSDB_REMOTE_PORT" ]; then
            echo "  ovsdb: tcp:127.0.0.1:$SKYDIVE_OVSDB_REMOTE_PORT"
        fi
        echo "  oflow:"
        echo "    enable: true"
        echo "    native: true"
        echo "analyzer:"
        echo "  listen: $SKYDIVE_ANALYZER_LISTEN"
        if [ "$SKYDIVE_AUTH" = keystone ]; then
            echo "  auth:"
            echo "    api:"
            echo "      backend: keystone"
        fi
        echo "  flow:"
        echo "    backend: $SKYDIVE_FLOWS_STORAGE"
        echo "  topology:"
        echo "    backend: $SKYDIVE_GRAPH_STORAGE"
        echo "    probes: $(skydive_yaml_list "$SKYDIVE_ANALYZER_PROBES")"
        if [ -n "$SKYDIVE_PUBLIC_INTERFACES" ]; then
            echo "    fabric:"
            skydive_fabric_rules
        fi
        if [ "$SKYDIVE_FLOWS_STORAGE" = elasticsearch ] || [ "$SKYDIVE_GRAPH_STORAGE" = elasticsearch ]; then
            echo "storage:"
            echo "  elasticsearch:"
            echo "    driver: elasticsearch"
            echo "    hosts: $(skydive_yaml_list "$SKYDIVE_ELASTICSEARCH_HOSTS")"
        fi
    } | sudo tee "$SKYDIVE_CONFIG_FILE" >/dev/null

    if is_service_enabled skydive-agent && [ -n "$SKYDIVE_OVSDB_REMOTE_PORT" ]; then
        sudo ovs-appctl -t ovsdb-server ovsdb-server/add-remote "ptcp:$SKYDIVE_OVSDB_REMOTE_PORT:127.0.0.1"
    fi
}

function start_skydive {
    if is_service_enabled skydive-analyzer; then
        run_process skydive-analyzer "$SKYDIVE_BIN_DIR/skydive analyzer --conf $SKYDIVE_CONFIG_FILE"
    fi
    if is_service_enabled skydive-agent; then
        run_process skydive-agent "$SKYDIVE_BIN_DIR/skydive agent --conf $SKYDIVE_CONFIG_FILE" root root
    fi
}

function stop_skydive {
    if is_service_enabled skydive-agent; then
        stop_process skydive-agent
    fi
    if is_service_enabled skydive-analyzer; then
        stop_process skydive-analyzer
    fi
}

function clean_skydive {
    sudo rm -f "$SKYDIVE_CONFIG_FILE" "$SKYDIVE_BIN_DIR/skydive"
}

if is_service_enabled skydive-agent || is_service_enabled skydive-analyzer; then
    if [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        echo_summary "Checking Skydive prerequisites"
        pre_install_skydive
    elif [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Skydive"
        install_skydive
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring and starting Skydive"
        configure_skydive
        start_skydive
    elif [[ "$1" == "unstack" ]]; then
        stop_skydive
    elif [[ "$1" == "clean" ]]; then
        clean_skydive
    fi
fi
