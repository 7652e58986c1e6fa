// Starts a real Apache Solr 9 node (HTTP, its own JVM) through Solr's embedded Jetty runner.
// Usage: java -cp <solr classpath>:<dir of this class> SolrRunner <solr home> <port>
// It serves under /solr and stays up until the JVM is stopped (SIGTERM from bin/stack stop).
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

public final class SolrRunner {
    private SolrRunner() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: SolrRunner <solr-home> <port>");
            System.exit(2);
        }
        String home = args[0];
        int port = Integer.parseInt(args[1]);
        System.setProperty("solr.solr.home", home);
        System.setProperty("host", "127.0.0.1");
        JettyConfig config = JettyConfig.builder()
                .setPort(port)
                .setContext("/solr")
                .stopAtShutdown(true)
                .build();
        JettySolrRunner runner = new JettySolrRunner(home, config);
        runner.start();
        System.out.println("SOLR READY " + runner.getBaseUrl());
        Thread.currentThread().join();
    }
}
