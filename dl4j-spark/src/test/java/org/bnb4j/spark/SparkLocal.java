package org.bnb4j.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.nd4j.linalg.dataset.DataSet;

/** A local Spark context on the loopback interface, without the web UI, and the RDDs the tests train on. */
final class SparkLocal {
    private SparkLocal() {}

    /** local[2]: two executor threads. */
    static JavaSparkContext start(String app) {
        return start(app, 2);
    }

    static JavaSparkContext start(String app, int threads) {
        SparkConf conf = new SparkConf().setMaster("local[" + threads + "]").setAppName(app)
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false");
        return new JavaSparkContext(conf);
    }

    /** The examples as an RDD of one-example DataSets (rddDataSetNumExamples = 1) in the given number of partitions. */
    static JavaRDD<DataSet> rdd(JavaSparkContext sc, DataSet d, int partitions) {
        return sc.parallelize(d.asList(), partitions);
    }
}
