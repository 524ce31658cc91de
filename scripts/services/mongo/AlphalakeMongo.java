import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * Runs mongo-java-server on a loopback port for alphalake's services test tier.
 *
 * <p>Usage: AlphalakeMongo HOST PORT [memory | h2:FILE]. The default backend is in memory
 * (data lives as long as the process); h2:FILE keeps it in an H2 MVStore file.
 */
public final class AlphalakeMongo {
  private AlphalakeMongo() {}

  public static void main(String[] args) throws Exception {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 19017;
    String storage = args.length > 2 ? args[2] : "memory";
    MongoBackend backend =
        storage.startsWith("h2:") ? new H2Backend(storage.substring(3)) : new MemoryBackend();
    // The mongodb 6.x driver needs wire version >= 7 (MongoDB 4.0); report 5.0.
    backend.version(ServerVersion.MONGO_5_0);
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    System.out.println("alphalake-mongo listening on " + host + ":" + port + " (" + storage + ")");
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shutdown"));
    Thread.currentThread().join();
  }
}
