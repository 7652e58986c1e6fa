// Starts a real SolrCloud for ckanext-sharing's SOLR_MODE=cloud (SPEC §8): Solr's own MiniSolrCloudCluster
// (solr-test-framework) with an embedded ZooKeeper and N Solr nodes (Jetty, HTTP) in this one JVM, and uploads
// the CJK configset. Collections are created by bin/stack through the Collections API.
//
// Usage: java -cp <solr classpath>:<dir of this class> SolrCloudRunner
//            --base DIR --zk-port N --ports P1,P2,... --control-port N --configset DIR --config-name NAME
//
// DIR is wiped and rebuilt on every start (the index is rebuilt from PostgreSQL by `bin/stack init`).
// The control port (127.0.0.1 only) lets tests stop and restart one node without touching the others:
//   GET  /status               {"ready":true,"zkHost":"127.0.0.1:9993","nodes":[{"node":1,"port":8993,"running":true,...}]}
//   POST /node/N/stop          stop node N; returns once ZooKeeper dropped it and every shard has a live leader
//   POST /node/N/start         start node N again (same port, same cores); returns once all replicas are active
//   POST /configset            upload the configset directory again (then RELOAD the collections)
// It stays up until SIGTERM (bin/stack stop / bin/stack solrcloud-stop), which shuts the nodes and ZooKeeper down.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.solr.cloud.MiniSolrCloudCluster;
import org.apache.solr.cloud.ZkTestServer;
import org.apache.solr.common.cloud.DocCollection;
import org.apache.solr.common.cloud.Replica;
import org.apache.solr.common.cloud.Slice;
import org.apache.solr.common.cloud.ZkStateReader;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

public final class SolrCloudRunner {
    private static final int WAIT_SECONDS = 90;

    private final MiniSolrCloudCluster cluster;
    private final ZkTestServer zk;
    private final List<JettySolrRunner> nodes = new ArrayList<>();
    private final List<String> nodeNames = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private final Path configset;
    private final String configName;
    private final Object commands = new Object();
    private volatile boolean ready;

    private SolrCloudRunner(MiniSolrCloudCluster cluster, ZkTestServer zk, Path configset, String configName) {
        this.cluster = cluster;
        this.zk = zk;
        this.configset = configset;
        this.configName = configName;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = parse(args);
        Path base = Paths.get(opt.get("base")).toAbsolutePath();
        int zkPort = Integer.parseInt(opt.get("zk-port"));
        int controlPort = Integer.parseInt(opt.get("control-port"));
        Path configset = Paths.get(opt.get("configset")).toAbsolutePath();
        String configName = opt.get("config-name");

        wipe(base);
        Files.createDirectories(base);
        System.setProperty("host", "127.0.0.1");

        ZkTestServer zk = new ZkTestServer(base.resolve("zookeeper/server1/data"), zkPort);
        zk.run();
        JettyConfig jetty = JettyConfig.builder().setContext("/solr").build();
        // No node yet: each node is started below on its fixed port, so bin/stack and CKAN know the URLs.
        MiniSolrCloudCluster cluster =
                new MiniSolrCloudCluster(0, base, MiniSolrCloudCluster.DEFAULT_CLOUD_SOLR_XML, jetty, zk, false);
        SolrCloudRunner runner = new SolrCloudRunner(cluster, zk, configset, configName);
        Runtime.getRuntime().addShutdownHook(new Thread(runner::shutdown, "solrcloud-shutdown"));

        int n = 0;
        for (String p : opt.get("ports").split(",")) {
            n++;
            int port = Integer.parseInt(p.trim());
            JettySolrRunner node = cluster.startJettySolrRunner(
                    "node" + n, "/solr", JettyConfig.builder().setContext("/solr").setPort(port).build());
            runner.nodes.add(node);
            runner.nodeNames.add(node.getNodeName());
            runner.ports.add(port);
        }
        cluster.waitForAllNodes(WAIT_SECONDS);
        cluster.uploadConfigSet(configset, configName);
        runner.serveControl(controlPort);
        runner.ready = true;
        System.out.println("SOLRCLOUD READY zkHost=" + zk.getZkAddress() + " nodes=" + runner.ports);
        Thread.currentThread().join();
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) usage("unexpected argument " + args[i]);
            opt.put(args[i].substring(2), args[i + 1]);
        }
        for (String key : new String[] {"base", "zk-port", "ports", "control-port", "configset", "config-name"}) {
            if (!opt.containsKey(key)) usage("missing --" + key);
        }
        return opt;
    }

    private static void usage(String why) {
        System.err.println("SolrCloudRunner: " + why);
        System.err.println("usage: SolrCloudRunner --base DIR --zk-port N --ports P1,P2 --control-port N"
                + " --configset DIR --config-name NAME");
        System.exit(2);
    }

    private static void wipe(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) Files.delete(p);
        }
    }

    private void shutdown() {
        ready = false;
        try {
            cluster.shutdown();
        } catch (Exception e) {
            e.printStackTrace();
        }
        try {
            zk.shutdown();
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    // --- control port ---------------------------------------------------------------------------

    private void serveControl(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
        server.createContext("/status", ex -> handle(ex, "GET", () -> statusJson()));
        server.createContext("/configset", ex -> handle(ex, "POST", () -> {
            synchronized (commands) {
                cluster.uploadConfigSet(configset, configName);
            }
            return "{\"uploaded\":\"" + configName + "\"}";
        }));
        server.createContext("/node/", ex -> handle(ex, "POST", () -> {
            synchronized (commands) { // one command at a time: a stop and a start must not overlap
                return nodeCommand(ex.getRequestURI().getPath());
            }
        }));
        // /status stays answerable while a command waits for leader election or recovery.
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
    }

    private interface Body {
        String get() throws Exception;
    }

    private static void handle(HttpExchange ex, String method, Body body) throws IOException {
        int code = 200;
        String out;
        if (!ex.getRequestMethod().equals(method)) {
            code = 405;
            out = "{\"error\":\"use " + method + "\"}";
        } else {
            try {
                out = body.get();
            } catch (IllegalArgumentException e) {
                code = 404;
                out = "{\"error\":" + quote(e.getMessage()) + "}";
            } catch (Exception e) {
                code = 500;
                out = "{\"error\":" + quote(e.toString()) + "}";
                e.printStackTrace();
            }
        }
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(bytes);
        }
    }

    private String nodeCommand(String path) throws Exception {
        String[] parts = path.split("/"); // "", "node", N, action
        if (parts.length != 4) throw new IllegalArgumentException("use /node/N/stop or /node/N/start");
        int index;
        try {
            index = Integer.parseInt(parts[2]) - 1;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("no node " + parts[2]);
        }
        if (index < 0 || index >= nodes.size()) throw new IllegalArgumentException("no node " + parts[2]);
        JettySolrRunner node = nodes.get(index);
        String name = nodeNames.get(index);
        ZkStateReader reader = cluster.getZkStateReader();
        switch (parts[3]) {
            case "stop":
                if (node.isRunning()) {
                    cluster.stopJettySolrRunner(node);
                    reader.waitForLiveNodes(WAIT_SECONDS, TimeUnit.SECONDS, (o, live) -> !live.contains(name));
                }
                waitForCollections(true);
                break;
            case "start":
                if (!node.isRunning()) {
                    cluster.startJettySolrRunner(node); // the JettyConfig's fixed port, the same cores
                    cluster.waitForNode(node, WAIT_SECONDS);
                }
                waitForCollections(false);
                break;
            default:
                throw new IllegalArgumentException("unknown action " + parts[3]);
        }
        return statusJson();
    }

    // After a stop: every shard has an active leader on a live node. After a start: every replica is active.
    private void waitForCollections(boolean leadersOnly) throws Exception {
        ZkStateReader reader = cluster.getZkStateReader();
        for (String collection : reader.getClusterState().getCollectionNames()) {
            reader.waitForState(collection, WAIT_SECONDS, TimeUnit.SECONDS,
                    (live, coll) -> coll != null && healthy(coll, live, leadersOnly));
        }
    }

    private static boolean healthy(DocCollection coll, Set<String> live, boolean leadersOnly) {
        for (Slice slice : coll.getSlices()) {
            Replica leader = slice.getLeader();
            if (leader == null || !leader.isActive(live)) return false;
            if (!leadersOnly) {
                for (Replica r : slice.getReplicas()) if (!r.isActive(live)) return false;
            }
        }
        return true;
    }

    private String statusJson() {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"ready\":").append(ready);
        sb.append(",\"zkHost\":").append(quote(zk.getZkAddress()));
        sb.append(",\"configName\":").append(quote(configName));
        sb.append(",\"nodes\":[");
        for (int i = 0; i < nodes.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append("{\"node\":").append(i + 1)
                    .append(",\"port\":").append(ports.get(i))
                    .append(",\"name\":").append(quote(nodeNames.get(i)))
                    .append(",\"running\":").append(nodes.get(i).isRunning())
                    .append('}');
        }
        return sb.append("]}").toString();
    }

    private static String quote(String s) {
        if (s == null) return "null";
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
