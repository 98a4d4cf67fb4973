<?php
// Every visit is written to the database and read back: the page shows that the request
// went from nginx to php-fpm (by name, php:9000) and on to MariaDB (by name, mysql).
$db = new mysqli('mysql', 'root', getenv('MYSQL_ROOT_PASSWORD'), getenv('MYSQL_DATABASE') ?: 'site');
$db->query('CREATE TABLE IF NOT EXISTS visits (id INT AUTO_INCREMENT PRIMARY KEY, php VARCHAR(64), at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)');
$stmt = $db->prepare('INSERT INTO visits (php) VALUES (?)');
$php = gethostname();
$stmt->bind_param('s', $php);
$stmt->execute();
$count = $db->query('SELECT COUNT(*) FROM visits')->fetch_row()[0];
header('Content-Type: text/plain');
printf("visits: %d\nphp-fpm on: %s\ndatabase: %s %s\n", $count, $php, $db->host_info, $db->server_info);
