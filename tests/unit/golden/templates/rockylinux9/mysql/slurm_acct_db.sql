-- Accounting database for Slurm 23.02.7, applied by slurm_install.sh --accounting.
-- @DB_PASSWORD@ is replaced by a password generated on the host; this file in the artifact holds
-- no password. slurmdbd creates the tables itself on first start.
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '@DB_PASSWORD@';
CREATE USER IF NOT EXISTS 'slurm'@'%' IDENTIFIED BY '@DB_PASSWORD@';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '@DB_PASSWORD@';
ALTER USER 'slurm'@'%' IDENTIFIED BY '@DB_PASSWORD@';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'%';
FLUSH PRIVILEGES;
