// Package passwd hashes and checks passwords with argon2id (PHC strings),
// with bounded concurrency and a dummy check for accounts that do not
// exist, so a log-in on an unknown account costs what a wrong password
// costs. The Dev Portal (developers) and the console (org users) share it.
package passwd
