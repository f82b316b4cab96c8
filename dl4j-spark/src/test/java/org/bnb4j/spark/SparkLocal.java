package org.bnb4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** A local[2] Spark context on the loopback interface, without the web UI. */
final class SparkLocal {
    private SparkLocal() {}

    static JavaSparkContext start(String app) {
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName(app)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false");
        return new JavaSparkContext(conf);
    }
}
