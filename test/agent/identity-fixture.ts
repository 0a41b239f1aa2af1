/** The files of a prepared host root with every kind of local account a finding or a change is about. */

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice A,,,:/home/alice:/bin/bash',
  'bob:x:1001:1001::/home/bob:/bin/bash',
  'carol:x:1002:1002::/home/carol:/bin/bash',
  'dave:x:1003:1003::/home/dave:/bin/sh',
  'eve::1004:1004::/home/eve:/bin/bash',
  'toor:x:0:0:backdoor:/root:/bin/bash',
  'frank:x:1005:1005::/home/frank:/bin/bash',
  'svc:x:1006:1006::/srv:/usr/sbin/nologin',
  'svc2:x:1006:1006::/srv:/usr/sbin/nologin',
  'broken:line',
  'alice:x:4000:4000:second alice:/tmp:/bin/sh',
  '',
].join('\n');

export const SHADOW = [
  'root:$y$j9T$abcdefgh$ijklmnop:19700:0:99999:7:::',
  'daemon:*:19700:0:99999:7:::',
  'alice:$6$salt$hashhashhash:19701:0:99999:7:::',
  'bob:!$6$salt$lockedhash:19702:0:99999:7:::',
  'carol::19703:0:99999:7:::',
  'toor:$6$x$y:0:0:99999:7:::',
  'frank:$6$a$b:19704:0:99999:7::19000:',
  'svc:!:19705::::::',
  'svc2:!*:19705::::::',
  'eve:$6$ignored$because-passwd-says-empty:19706:0:99999:7:::',
  '',
].join('\n');

export const GROUP = [
  'root:x:0:',
  'sudo:x:27:alice',
  'docker:x:999:frank',
  'admins:x:1500:bob,frank,eve',
  'alice:x:1000:',
  'bob:x:1001:',
  'carol:x:1002:',
  'dave:x:1003:',
  'frank:x:1005:',
  'svc:x:1006:',
  '',
].join('\n');

export const SUDOERS = [
  '# /etc/sudoers of the prepared root',
  'Defaults\tenv_reset',
  'Defaults:alice !lecture',
  'Cmnd_Alias SHUTDOWN = /sbin/shutdown, /sbin/reboot',
  'Host_Alias SERVERS = web1, web2',
  'root\tALL=(ALL:ALL) ALL',
  '%sudo   ALL=(ALL:ALL) ALL  # members of sudo',
  '@includedir /etc/sudoers.d',
  '',
].join('\n');
